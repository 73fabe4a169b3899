import ArgumentParser
import Foundation
import HipChatConnect
import HipKit
import HipKitServer

/// How diagnostics are printed.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case human, json
}

/// Printing shared by the commands: diagnostics on stderr (stdout for `--format json`), and
/// the exit codes of the contract: 0 fine, 1 errors in the input, 2 usage or I/O problems.
enum Output {
    static func renderer() -> DiagnosticRenderer {
        let environment = ProcessInfo.processInfo.environment
        let color = environment["NO_COLOR"] == nil && isatty(STDERR_FILENO) == 1 && environment["TERM"] != "dumb"
        return DiagnosticRenderer(useColor: color, githubAnnotations: environment["GITHUB_ACTIONS"] != nil)
    }

    static func report(_ diagnostics: [Diagnostic], sources: SourceStore, format: OutputFormat, summary: Bool = true) {
        switch format {
        case .json:
            FileHandle.standardOutput.write(Data(DiagnosticRenderer.json(diagnostics).utf8))
        case .human:
            let renderer = renderer()
            var text = renderer.human(diagnostics, sources: sources)
            if summary && !diagnostics.isEmpty { text += renderer.summary(diagnostics) + "\n" }
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    static func fail(_ error: HipKitError) -> ExitCode {
        var text = "hipkit: error: \(error.message)\n"
        if let hint = error.hint { text += "   hint: \(hint)\n" }
        FileHandle.standardError.write(Data(text.utf8))
        return ExitCode(2)
    }

    /// Runs `body`, turning a usage or I/O problem (``HipKitError``) or a build that cannot be
    /// served (``SiteLoadError``, with its diagnostics) into exit status 2: the one place the
    /// commands map errors to exit codes.
    static func run<T>(_ body: () throws -> T) throws -> T {
        try run(format: .human, body)
    }

    /// ``run(_:)`` for a command with `--format`: with `json`, a usage or I/O problem is also
    /// printed on stdout as the one error of a report (code `usage`, no location), so a script
    /// reading the JSON gets an answer for every exit status.
    static func run<T>(format: OutputFormat, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as HipKitError where format == .json {
            report([.error(.usage, error.message, at: nil, hint: error.hint)], sources: SourceStore(), format: .json)
            throw fail(error)
        } catch {
            throw exit(for: error)
        }
    }

    static func runAsync<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw exit(for: error)
        }
    }

    private static func exit(for error: any Error) -> any Error {
        switch error {
        case let error as HipKitError:
            return fail(error)
        case let failure as SiteLoadError:
            report(failure.diagnostics, sources: failure.sources, format: .human, summary: false)
            return ExitCode(2)
        default:
            return error
        }
    }

    static func say(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
