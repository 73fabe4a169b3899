import Foundation
import HipChatConnect

/// One step of a scripted browser session (see `Fixtures/browser/scenario.py`).
struct ScenarioStep: Encodable, Sendable {
    var name: String?
    var navigate: String?
    var eval: String?
    var waitFor: String?
    var timeout: Double?
    var write: String?
    var text: String?
    var replace: String?
    var old: String?
    var new: String?
    var screenshot: String?
    var sleep: Double?
    var click: String?
    var frame: String?
    var type: String?

    static func navigate(_ url: URL, _ name: String? = nil) -> ScenarioStep {
        ScenarioStep(name: name, navigate: url.absoluteString)
    }
    static func eval(_ js: String, _ name: String? = nil) -> ScenarioStep { ScenarioStep(name: name, eval: js) }
    static func waitFor(_ js: String, timeout: Double = 10, _ name: String? = nil) -> ScenarioStep {
        ScenarioStep(name: name, waitFor: js, timeout: timeout)
    }
    static func replace(in file: URL, _ old: String, with new: String, _ name: String? = nil) -> ScenarioStep {
        ScenarioStep(name: name, replace: file.path, old: old, new: new)
    }
    /// A real mouse click on the first element matching `selector`, which must not be covered.
    static func click(_ selector: String, _ name: String? = nil) -> ScenarioStep {
        ScenarioStep(name: name, click: selector)
    }
    /// The same, on an element of the page in the iframe matching `frame` (a view in the room).
    static func click(_ selector: String, inFrame frame: String, _ name: String? = nil) -> ScenarioStep {
        ScenarioStep(name: name, click: selector, frame: frame)
    }
    /// Typing into the focused element.
    static func type(_ text: String, _ name: String? = nil) -> ScenarioStep { ScenarioStep(name: name, type: text) }
    static func screenshot(_ file: URL) -> ScenarioStep {
        ScenarioStep(name: file.lastPathComponent, screenshot: file.path)
    }
}

/// What a scenario did: whether every step passed, the first that did not, the values the
/// `eval` and `waitFor` steps returned, and the errors the page raised on the way.
struct ScenarioReport: Decodable, CustomStringConvertible, Sendable {
    struct Failure: Decodable, Sendable {
        var step: Int
        var name: String?
        var error: String
    }

    var ok: Bool
    var failed: Failure?
    var values: [ScenarioValue?]
    var timings: [Double]
    var errors: [String]

    /// What the step called `name` of `steps` returned, as text: a string as it is, a whole
    /// number without decimals, `true`/`false`; `""` for anything else or a step not reached.
    func value(of name: String, in steps: [ScenarioStep]) -> String {
        guard let index = steps.firstIndex(where: { $0.name == name }), index < values.count else { return "" }
        switch values[index] {
        case .string(let text)?: return text
        case .number(let number)?: return number == number.rounded() ? String(Int(number)) : String(number)
        case .bool(let flag)?: return String(flag)
        default: return ""
        }
    }

    var description: String {
        guard let failed else { return "passed in \(timings.last ?? 0) s; page errors: \(errors)" }
        return "step \(failed.step) (\(failed.name ?? "unnamed")) failed: \(failed.error); page errors: \(errors)"
    }
}

/// A JSON value returned from the page.
enum ScenarioValue: Decodable, Equatable, Sendable {
    case bool(Bool)
    case number(Double)
    case string(String)
    case other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            self = .other
        }
    }

    var string: String? { if case .string(let s) = self { s } else { nil } }
}

extension HeadlessChromium {
    /// Runs `steps` in one page of a fresh headless Chromium.
    func run(_ steps: [ScenarioStep], timeout: Double = 90, width: Int = 1024, height: Int = 768) throws
        -> ScenarioReport
    {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "hipkit-scenario-\(UUID().uuidString).json")
        try JSONEncoder().encode(steps).write(to: scratch)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let run = try BoundedProcess.run(
            "python3",
            [
                Self.scripts.appendingPathComponent("scenario.py").path, "--chromium", chromium.path, "--steps",
                scratch.path,
                "--timeout", String(timeout), "--width", String(width), "--height", String(height),
            ],
            timeout: timeout + 15, what: "A browser scenario")
        guard run.status == 0 else {
            throw BrowserHarnessError.failed("scenario.py failed (exit \(run.status)):\n\(run.stderr)")
        }
        do {
            return try JSONDecoder().decode(ScenarioReport.self, from: Data(run.stdout.utf8))
        } catch {
            throw BrowserHarnessError.failed(
                "scenario.py printed something unexpected (\(error)):\n\(run.stdout)\n\(run.stderr)")
        }
    }
}
