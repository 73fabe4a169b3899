import Foundation
import TestProcesses
import Testing

@testable import HipKit

#if canImport(Glibc)
    import Glibc
#endif

/// The release archive `make dist` writes, made here by the same script from the test build's
/// binary: it holds exactly the binary, the man page and the completions, and the binary alone,
/// unpacked into an empty folder with the repository's `.build/` out of reach, runs `init`,
/// `build`, `serve` and `dev`, whose local HipChat page loads.
@Suite(.serialized) struct DistributionTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../..").standardizedFileURL
    /// Written by `make manual`, which `make test` runs before the tests.
    static let manual = repository.appendingPathComponent(".build/plugins/GenerateManual/outputs/hipkit/hipkit.1")

    /// Runs `executable arguments…` to its end, off the concurrency pool.
    static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) async throws
        -> TestSupport.Run
    {
        try await Blocking.run { try TestSupport.run(URL(fileURLWithPath: executable), arguments, in: directory) }
    }

    /// A command line that runs `hipkit` from `binary` in `directory`, in a mount namespace of its
    /// own where the repository's `.build/` is an empty folder: nothing it could fall back on.
    static func isolated(_ binary: URL, in directory: URL) -> [String] {
        [
            "/usr/bin/unshare", "--map-root-user", "--mount", "/bin/sh", "-c",
            #"mount -t tmpfs hidden "$0" && cd "$1" && shift && exec "$@""#,
            repository.appendingPathComponent(".build").path, directory.path, binary.path,
        ]
    }

    @Test func theArchiveHoldsOneBinaryThatWorksAlone() async throws {
        try #require(
            FileManager.default.fileExists(atPath: Self.manual.path),
            "no man page at \(Self.manual.path): run the tests with `make test`, which makes it first")
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }

        let made = try await Self.run(
            Self.repository.appendingPathComponent("scripts/dist").path,
            [TestSupport.hipkitExecutable.path, Self.manual.path, root.appendingPathComponent("out").path])
        #expect(made.status == 0, "\(made.stdout)\(made.stderr)")
        let archive = try #require(made.stdout.split(separator: "\n").last.map(String.init))
        let name = ((archive as NSString).lastPathComponent as NSString).deletingPathExtension
            .replacingOccurrences(of: ".tar", with: "")
        #expect(name.hasPrefix("hipkit-") && name.hasSuffix("-linux-\(Self.machine())"), "\(name)")
        let checked = try await Self.run(
            "/usr/bin/sha256sum", ["-c", "\(name).tar.gz.sha256"], in: root.appendingPathComponent("out"))
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")

        // Unpacked into an empty folder: exactly the binary, the man page and three completions.
        let unpacked = root.appendingPathComponent("unpacked")
        try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
        let untar = try await Self.run("/bin/tar", ["-xzf", archive, "-C", unpacked.path])
        #expect(untar.status == 0, "\(untar.stderr)")
        #expect(
            try FileTree.files(under: unpacked) == [
                "\(name)/bin/hipkit", "\(name)/share/bash-completion/completions/hipkit",
                "\(name)/share/fish/vendor_completions.d/hipkit.fish", "\(name)/share/man/man1/hipkit.1",
                "\(name)/share/zsh/site-functions/_hipkit",
            ])
        let binary = unpacked.appendingPathComponent("\(name)/bin/hipkit")

        // From an empty folder, with .build/ hidden: init and build.
        let work = root.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let launcher = Self.isolated(binary, in: work)
        for arguments in [["init", "x"], ["build", "x"]] {
            let step = try await Self.run(launcher[0], Array(launcher.dropFirst()) + arguments)
            #expect(step.status == 0, "hipkit \(arguments.joined(separator: " ")): \(step.stdout)\(step.stderr)")
        }
        #expect(
            FileManager.default.fileExists(atPath: work.appendingPathComponent("x/dist/atlassian-connect.json").path))

        // serve: the built site and its descriptor.
        let serve = try await Blocking.run {
            try DevProcess(port: try DevProcess.freePort(), readyPath: "/healthz", launcher: launcher) {
                ["serve", "x/dist", "--port", String($0)]
            }
        }
        let descriptor = await serve.fetch("GET", "/atlassian-connect.json")
        #expect(descriptor.status == 200)
        #expect(String(decoding: descriptor.body, as: UTF8.self).contains("\"key\""))
        #expect(await serve.fetch("GET", "/_preview/").status == 200)
        _ = try await Blocking.run { serve.stop() }

        // dev: the local HipChat's page, its script and HipChat's all.js, all from the binary.
        let dev = try await Blocking.run {
            try DevProcess(port: try DevProcess.freePort(), readyPath: "/_hipkit/dev/status", launcher: launcher) {
                ["dev", "x", "--port", String($0)]
            }
        }
        let page = await dev.fetch("GET", "/_hipchat/")
        #expect(page.status == 200)
        #expect(String(decoding: page.body, as: UTF8.self).contains("<html"))
        for path in ["/_hipchat/room.js", "/_hipchat/atlassian-connect/all.js", "/_hipkit/dev/reload.js"] {
            let asset = await dev.fetch("GET", path)
            #expect(asset.status == 200, "\(path)")
            #expect(!String(decoding: asset.body, as: UTF8.self).contains("missing from this hipkit"), "\(path)")
        }
        _ = try await Blocking.run { dev.stop() }
    }

    static func machine() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
