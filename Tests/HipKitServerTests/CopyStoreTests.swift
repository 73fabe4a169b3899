import Foundation
import HipChatConnect
import TestProcesses
import Testing

@testable import HipKitServer

/// `hipkit copy-store`, the command: from one server's data folder to PostgreSQL and back,
/// nothing lost, and a store that is not empty left alone.
@Suite("hipkit copy-store")
struct CopyStoreTests {
    /// Runs `hipkit ARGUMENTS` with `environment` added; its status and output.
    static func hipkit(_ arguments: [String], environment extra: [String: String]) async throws -> (
        Int32, String
    ) {
        try await Blocking.run {
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("copy-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: output) }
            let process = try ChildProcess(
                ServeCommandTests.executable, arguments,
                environment: ProcessInfo.processInfo.environment.merging(extra) { _, new in new },
                standardOutput: .file(output), standardError: .standardOutput)
            process.waitUntilExit()
            return (process.terminationStatus, try String(contentsOf: output, encoding: .utf8))
        }
    }

    /// A store as a server leaves it: two installations, glance data for the add-on, a room and
    /// a room of one installation, settings for an installation and a room.
    static func fill(_ store: any InstallationStore) async throws {
        try await store.upsert(Fixture.installation(roomId: 42, apiUrl: "https://api.hipchat.com/v2/"))
        try await store.upsert(Fixture.installation(Fixture.otherId, secret: Fixture.otherSecret))
        try await store.putGlanceData(.object(["label": .string("all")]), key: "incidents-glance", room: nil)
        try await store.putGlanceData(.object(["label": .string("room")]), key: "incidents-glance", room: 42)
        try await store.putGlanceData(
            .object(["label": .string("theirs")]), key: "incidents-glance", room: 7, installation: Fixture.otherId)
        try await store.putSettings(["severity": .string("high")], oauthId: Fixture.oauthId, room: nil)
        try await store.putSettings(["severity": .string("low")], oauthId: Fixture.otherId, room: 7)
    }

    @Test("a data folder moves to PostgreSQL and back with nothing lost")
    func roundTrip() async throws {
        let site = try TestSite()
        defer { site.remove() }
        // The server's own data folder, with its secret.key.
        let original = try SQLiteStore(file: site.configuration().databaseFile)
        try await Self.fill(original)
        let expected = try await original.contents()
        try await original.close()
        #expect(expected.installations.count == 2 && expected.glanceData.count == 3 && expected.settings.count == 2)

        let key = SecretBox.randomKeyText()
        let database = try await PostgresServer.shared().createDatabase()
        let (status, output) = try await Self.hipkit(
            ["copy-store", site.data.path, database], environment: [SecretBox.environmentVariable: key])
        #expect(status == 0, "\(output)")
        #expect(output.contains("copied 2 installations, 3 glance values and 2 settings records"), "\(output)")
        let copied = try await PostgresStore.open(
            url: DatabaseURL(database), secrets: SecretBox(keyBytes: SecretBox.parseKey(key)),
            logger: StoreLocation.quiet)
        #expect(try await copied.contents() == expected)
        try await copied.close()

        let back = site.root.appendingPathComponent("back")
        let (again, againOutput) = try await Self.hipkit(
            ["copy-store", database, back.path], environment: [SecretBox.environmentVariable: key])
        #expect(again == 0, "\(againOutput)")
        let folder = try SQLiteStore(
            file: back.appendingPathComponent("hipkit.sqlite"),
            secrets: SecretBox(keyBytes: SecretBox.parseKey(key)))
        #expect(try await folder.contents() == expected)
        try await folder.close()
    }

    /// A notification or glance update still in the outbox was acknowledged; copy-store does
    /// not carry the outbox, so a source holding one is refused (the documented move, stop then
    /// copy, dropped it without a word), unless --drop-pending says to go on without it.
    @Test("a source with pushes not yet delivered is refused unless --drop-pending")
    func refusesPendingPushes() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let source = try SQLiteStore(file: site.configuration().databaseFile)
        try await Self.fill(source)
        // Verified, as HipChat's installs are: its pushes can be delivered.
        try await source.upsert(
            Fixture.installation(
                roomId: 42, apiUrl: "https://api.hipchat.com/v2/", tokenUrl: "https://api.hipchat.com/v2/oauth/token"))
        let queued = try await source.queueNotification(
            .object(["message": .string("deploy done")]), room: 42, through: nil)
        #expect(queued.pushes == 1)
        try await source.close()

        let target = site.root.appendingPathComponent("copy")
        let (refused, output) = try await Self.hipkit(["copy-store", site.data.path, target.path], environment: [:])
        #expect(refused != 0)
        #expect(output.contains("still holds pushes not yet delivered"), "\(output)")
        #expect(output.contains("--drop-pending"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: target.appendingPathComponent("hipkit.sqlite").path))

        let (copied, copiedOutput) = try await Self.hipkit(
            ["copy-store", site.data.path, target.path, "--drop-pending"], environment: [:])
        #expect(copied == 0, "\(copiedOutput)")
        #expect(copiedOutput.contains("copied 2 installations"), "\(copiedOutput)")
    }

    /// A folder whose key moved to HIPKIT_SECRET_KEY, and was rotated there, with its old
    /// secret.key left behind: the servers read it with the variable, and copy-store, which tried
    /// the stale file only, said to "set HIPKIT_SECRET_KEY", which was set.
    @Test("a stale secret.key beside a store sealed with HIPKIT_SECRET_KEY is passed over")
    func staleKeyFileIsPassedOver() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let key = SecretBox.randomKeyText()
        let source = try SQLiteStore(file: site.configuration().databaseFile, secretKey: key)
        try await Self.fill(source)
        let expected = try await source.contents()
        try await source.close()
        let stale = site.data.appendingPathComponent(SecretBox.keyFileName)
        try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).write(to: stale)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: stale.path)

        let target = site.root.appendingPathComponent("copy")
        let (status, output) = try await Self.hipkit(
            ["copy-store", site.data.path, target.path], environment: [SecretBox.environmentVariable: key])
        #expect(status == 0, "\(output)")
        let copied = try SQLiteStore(file: target.appendingPathComponent("hipkit.sqlite"), secretKey: key)
        #expect(try await copied.contents() == expected)
        try await copied.close()
    }

    @Test("a data folder copied onto itself is refused as that")
    func refusesItselfAsTarget() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let source = try SQLiteStore(file: site.configuration().databaseFile)
        try await Self.fill(source)
        try await source.close()
        let (status, output) = try await Self.hipkit(
            ["copy-store", site.data.path, site.data.path + "/"], environment: [:])
        #expect(status != 0)
        #expect(output.contains("is both the source and the target; copy-store changed nothing"), "\(output)")
    }

    @Test("a target that holds anything is refused, and left as it was", arguments: StoreKind.allCases)
    func refusesNonEmptyTarget(_ kind: StoreKind) async throws {
        let site = try TestSite()
        defer { site.remove() }
        let source = try SQLiteStore(file: site.configuration().databaseFile)
        try await Self.fill(source)
        try await source.close()

        let key = SecretBox.randomKeyText()
        let target = try await StoreLocation.make(kind, key: key)
        defer { target.remove() }
        let before = try await target.with { store throws in
            try await store.upsert(Fixture.installation("already-there"))
            return try await store.contents()
        }
        let address = target.kind == .postgres ? target.databaseText : target.folder.path
        let (status, output) = try await Self.hipkit(
            ["copy-store", site.data.path, address], environment: [SecretBox.environmentVariable: key])
        #expect(status != 0)
        #expect(output.contains("not empty"), "\(output)")
        #expect(try await target.with { store throws in try await store.contents() } == before)
    }

    @Test("what is neither a data folder nor a postgres:// URL is refused, and named")
    func refusesWhatIsNotAStore() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let source = try SQLiteStore(file: site.configuration().databaseFile)
        try await Self.fill(source)
        try await source.close()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("copy-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        // Another kind of URL is not a folder called `mysql:` (it was, and the copy went there).
        let mysql = try await Self.hipkit(["copy-store", site.data.path, "mysql://u:hunter2@h/db"], environment: [:])
        #expect(mysql.0 == 2)
        #expect(mysql.1.contains("'mysql://u:***@h/db' is neither a data folder nor a postgres:// URL"), "\(mysql.1)")
        #expect(mysql.1.contains("Usage: hipkit copy-store"), "\(mysql.1)")
        #expect(!mysql.1.contains("hunter2"))
        #expect(!FileManager.default.fileExists(atPath: "mysql:"))

        // A file, as the target or the source, is named as one.
        let file = work.appendingPathComponent("notes.txt")
        try Data("mine".utf8).write(to: file)
        let intoFile = try await Self.hipkit(["copy-store", site.data.path, file.path], environment: [:])
        #expect(intoFile.0 == 2)
        #expect(intoFile.1.contains("notes.txt is a file, not a data folder"), "\(intoFile.1)")
        #expect(try Data(contentsOf: file) == Data("mine".utf8))
        let fromFile = try await Self.hipkit(
            ["copy-store", file.path, work.appendingPathComponent("new").path], environment: [:])
        #expect(fromFile.1.contains("notes.txt is a file, not a data folder"), "\(fromFile.1)")
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("new").path))
    }

    @Test("rotate-key of a folder without a store says so, and what to name")
    func rotateKeyOfNoStore() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("copy-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let nothing = work.appendingPathComponent("nosuch")
        let (status, output) = try await Self.hipkit(
            ["rotate-key", "--data", nothing.path], environment: [SecretBox.environmentVariable: ""])
        #expect(status == 2)
        #expect(output.contains("nosuch holds no hipkit.sqlite; there is nothing to re-encrypt"), "\(output)")
        #expect(output.contains("hint: name the data folder"), "\(output)")
        #expect(!output.contains("key file"), "\(output)")
    }

    /// A "rotation" to the key in use changed nothing and said the old key no longer opened the
    /// store; it is refused, the store untouched.
    @Test("rotate-key to the key in use is refused")
    func rotateKeyToTheSameKey() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let key = SecretBox.randomKeyText()
        let store = try SQLiteStore(file: site.configuration().databaseFile, secretKey: key)
        try await Self.fill(store)
        try await store.close()
        let (status, output) = try await Self.hipkit(
            ["rotate-key", "--data", site.data.path],
            environment: [SecretBox.environmentVariable: key, SecretBox.newEnvironmentVariable: key])
        #expect(status != 0)
        #expect(output.contains("HIPKIT_NEW_SECRET_KEY is the key HIPKIT_SECRET_KEY is already"), "\(output)")
        let reopened = try SQLiteStore(file: site.configuration().databaseFile, secretKey: key)
        #expect(try await reopened.contents().installations.count == 2)
        try await reopened.close()
    }
}
