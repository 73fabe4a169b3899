import Foundation
import HipChatConnect
import TestProcesses
import Testing

@testable import HipKit

/// Files and folders the tests use, all under a fresh temporary folder per call.
enum TestSupport {
    static var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures") }

    static func fixture(_ path: String) -> URL { fixtures.appendingPathComponent(path) }

    static func temporaryDirectory(_ name: String = #function) throws -> URL {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "hipkit-tests-\(safe)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func write(_ text: String, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// A project folder holding `spec` as addon.yaml, plus `files` (path → contents).
    static func project(_ spec: String, files: [String: String] = [:], name: String = #function) throws -> URL {
        let dir = try temporaryDirectory(name)
        try write(spec, to: dir.appendingPathComponent("addon.yaml"))
        for (path, text) in files { try write(text, to: dir.appendingPathComponent(path)) }
        return dir
    }

    /// A project made by `hipkit init --template TEMPLATE`, folder `name` inside a fresh
    /// temporary folder (`label` names it); the caller removes its parent folder.
    static func scaffold(_ template: String, in label: String, named name: String = "incidents") async throws -> URL {
        let project = try temporaryDirectory(label).appendingPathComponent(name)
        let created = try await Blocking.run { try hipkit(["init", project.path, "--template", template]) }
        try #require(created.status == 0, "hipkit init --template \(template): \(created.stderr)")
        return project
    }

    /// Loads the project in `dir` and returns what the loader found.
    static func load(_ dir: URL, options: LoadOptions = LoadOptions()) throws -> ProjectLoader.Outcome {
        try ProjectLoader().load(dir.appendingPathComponent("addon.yaml").path, options: options)
    }

    /// The `hipkit` executable SwiftPM built next to the test bundle.
    static var hipkitExecutable: URL {
        Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("hipkit")
    }

    struct Run: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `hipkit` with `arguments` in `directory` and waits for it.
    static func hipkit(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws
        -> Run
    {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "GITHUB_ACTIONS")
        for (k, v) in environment { env[k] = v }
        return try run(hipkitExecutable, arguments, in: directory, environment: env)
    }

    /// Runs `executable` with `arguments` in `directory` and waits for it.
    static func run(
        _ executable: URL, _ arguments: [String], in directory: URL? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Run {
        // Output goes to files, not pipes, so a chatty child can never block on a full pipe.
        let scratch = try temporaryDirectory("run")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        let process = try ChildProcess(
            executable, arguments, environment: environment, directory: directory,
            standardOutput: .file(outURL), standardError: .file(errURL))
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            stdout: try String(contentsOf: outURL, encoding: .utf8),
            stderr: try String(contentsOf: errURL, encoding: .utf8))
    }

    /// Every file under `dir`, relative path → bytes.
    static func snapshot(_ dir: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for path in try FileTree.files(under: dir) {
            files[path] = try Data(contentsOf: dir.appendingPathComponent(path))
        }
        return files
    }
}
