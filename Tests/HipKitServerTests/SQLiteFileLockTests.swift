import Foundation
import Testing

@testable import HipKitServer

/// Another program reading the database while the server runs: docs/runtime.md's live backup
/// (`sqlite3 hipkit.sqlite ".backup …"`), a look with `sqlite3`.
@Suite struct SQLiteFileLockTests {
    /// Runs Python's sqlite3 module, another process with SQLite of its own, on `file`: a
    /// backup to `backup`, then the connection closed, as the sqlite3 shell does.
    static func backUp(_ file: URL, to backup: URL) throws -> (status: Int32, output: String) {
        let script = """
            import sqlite3, sys
            source = sqlite3.connect(sys.argv[1])
            target = sqlite3.connect(sys.argv[2])
            source.backup(target)
            target.close()
            print(source.execute("SELECT count(*) FROM installation").fetchone()[0])
            source.close()
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, file.path, backup.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// SQLite in WAL mode keeps a shared lock on the database file while a connection is open,
    /// and a program closing its own connection deletes the WAL only when it can lock the file
    /// alone. The store once dropped its lock (it closed a descriptor of its own on the file,
    /// which drops every POSIX lock of the process): a backup then deleted the WAL the server
    /// went on writing to, and what it acknowledged after was gone after a restart.
    @Test func aBackupWhileTheStoreIsOpenLeavesItsWALAndItsWrites() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hipkit-lock-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("hipkit.sqlite")
        let secrets = SecretBox.random()
        let store = try SQLiteStore(file: file, secrets: secrets)
        try await store.upsert(Fixture.installation("before"))

        let backup = try Self.backUp(file, to: folder.appendingPathComponent("backup.sqlite"))
        #expect(backup.status == 0, "\(backup.output)")
        #expect(backup.output.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(backup.output)")
        #expect(FileManager.default.fileExists(atPath: file.path + "-wal"), "the backup deleted the server's WAL")

        try await store.upsert(Fixture.installation("after"))
        try await store.close()
        let reopened = try SQLiteStore(file: file, secrets: secrets)
        #expect(try await reopened.installations().map(\.oauthId).sorted() == ["after", "before"])
        try await reopened.close()
    }
}
