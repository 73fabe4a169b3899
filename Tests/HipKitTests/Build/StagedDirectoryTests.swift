import Foundation
import HipChatConnect
import TestProcesses
import Testing

@testable import HipKit

@Suite struct StagedDirectoryTests {
    @Test func aFailureMidwayLeavesThePreviousOutputByteForByte() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("dist")
        try StagedDirectory.replace(out) { staging in
            try StagedDirectory.write(Data("{}".utf8), to: staging.appendingPathComponent(ConnectDescriptor.fileName))
            try StagedDirectory.write(Data("{}".utf8), to: staging.appendingPathComponent(RuntimeManifest.path))
            try StagedDirectory.write(Data("old page".utf8), to: staging.appendingPathComponent("a.html"))
        }
        let before = try TestSupport.snapshot(out)

        struct Midway: Error {}
        #expect(throws: Midway.self) {
            try StagedDirectory.replace(out) { staging in
                try StagedDirectory.write(
                    Data("{\"new\": 1}".utf8), to: staging.appendingPathComponent(ConnectDescriptor.fileName))
                try StagedDirectory.write(Data("new page".utf8), to: staging.appendingPathComponent("a.html"))
                throw Midway()
            }
        }
        #expect(try TestSupport.snapshot(out) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["dist"])
    }

    /// An output folder given as a symbolic link keeps the link: the folder it leads to is
    /// replaced, not the link by a folder of its own.
    @Test func aSymbolicLinkToTheOutputStaysALink() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let real = root.appendingPathComponent("real")
        let link = root.appendingPathComponent("dist")
        try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "real")
        for page in ["one", "two"] {
            try StagedDirectory.replace(link) {
                try StagedDirectory.write(Data(page.utf8), to: $0.appendingPathComponent(ConnectDescriptor.fileName))
                try StagedDirectory.write(Data("{}".utf8), to: $0.appendingPathComponent(RuntimeManifest.path))
            }
        }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "real")
        #expect(try Data(contentsOf: real.appendingPathComponent(ConnectDescriptor.fileName)) == Data("two".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() == ["dist", "real"])
        // A link to nothing is refused, saying so.
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent("gone").path, withDestinationPath: "nowhere")
        #expect(throws: HipKitError.self) {
            try StagedDirectory.replace(root.appendingPathComponent("gone")) { _ in }
        }
    }

    @Test func aSuccessfulBuildReplacesEverything() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("dist")
        try StagedDirectory.replace(out) {
            try StagedDirectory.write(Data("1".utf8), to: $0.appendingPathComponent(ConnectDescriptor.fileName))
            try StagedDirectory.write(Data("{}".utf8), to: $0.appendingPathComponent(RuntimeManifest.path))
            try StagedDirectory.write(Data("x".utf8), to: $0.appendingPathComponent("stale.html"))
        }
        try StagedDirectory.replace(out) {
            try StagedDirectory.write(Data("2".utf8), to: $0.appendingPathComponent(ConnectDescriptor.fileName))
        }
        #expect(try TestSupport.snapshot(out) == [ConnectDescriptor.fileName: Data("2".utf8)])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["dist"])
    }

    /// A mount point (a volume, a tmpfs) cannot be swapped for the staged folder: refused before
    /// anything is written, saying to build into a folder inside it. `/proc` is a mount point on
    /// every Linux system.
    @Test func aMountPointIsRefusedWithWhereToBuildInstead() throws {
        #expect(StagedDirectory.isMountPoint(URL(fileURLWithPath: "/proc")))
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(!StagedDirectory.isMountPoint(root))
        var filled = false
        do {
            try StagedDirectory.replace(URL(fileURLWithPath: "/proc")) { _ in filled = true }
            Issue.record("replaced /proc")
        } catch let error as HipKitError {
            #expect(error.message == "cannot replace /proc: it is a mount point")
            #expect(error.hint?.contains("--out /proc/dist") == true)
        }
        #expect(!filled)
    }

    /// A build killed at any moment leaves the old site or the new one, never a mix.
    @Test func killedBuildsLeaveAWholeSite() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("p")
        var files: [String: String] = [:]
        for i in 0..<300 {
            files["pages/p\(i).md"] =
                "# Page \(i)\n\n" + String(repeating: "Some text for page \(i). ", count: 200) + "\n"
        }
        let spec = "key: com.example.kill\nname: Kill\ndescription: d\nbaseUrl: https://kill.example.com\n"
        try TestSupport.write(spec, to: project.appendingPathComponent("addon.yaml"))
        for (path, text) in files { try TestSupport.write(text, to: project.appendingPathComponent(path)) }
        let dist = project.appendingPathComponent("dist")
        #expect(try TestSupport.hipkit(["build", project.path]).status == 0)
        let old = try TestSupport.snapshot(dist)
        // Change every page so old and new sites differ everywhere.
        for (path, text) in files {
            try TestSupport.write(text + "\nEdited.\n", to: project.appendingPathComponent(path))
        }
        let new = try { () throws -> [String: Data] in
            let other = root.appendingPathComponent("expected")
            #expect(try TestSupport.hipkit(["build", project.path, "--out", other.path]).status == 0)
            return try TestSupport.snapshot(other)
        }()
        #expect(old != new)
        var sawOld = 0
        var sawNew = 0
        for attempt in 0..<12 {
            let process = try ChildProcess(TestSupport.hipkitExecutable, ["build", project.path])
            usleep(UInt32(5_000 + attempt * 12_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let now = try TestSupport.snapshot(dist)
            #expect(now == old || now == new, "attempt \(attempt): a mixed or partial site")
            if now == old { sawOld += 1 } else if now == new { sawNew += 1 }
            // Back to the old site for the next attempt.
            if now == new {
                for (path, text) in files { try TestSupport.write(text, to: project.appendingPathComponent(path)) }
                #expect(try TestSupport.hipkit(["build", project.path]).status == 0)
                for (path, text) in files {
                    try TestSupport.write(text + "\nEdited.\n", to: project.appendingPathComponent(path))
                }
            }
        }
        #expect(sawOld + sawNew == 12)
    }
}
