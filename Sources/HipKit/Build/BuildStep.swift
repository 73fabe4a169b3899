import Foundation
import HipChatConnect

/// What a build's steps share: the loaded project, and what the steps before have made.
///
/// Steps run in order over one context (Zola's `Site::build()` and Publish's `PublishingStep`
/// are the models): each reads what earlier ones left and adds files and diagnostics. Nothing is
/// written to disk here, so `hipkit validate` runs the same steps, and a build writes only a site
/// that came out without errors.
public struct BuildContext: Sendable {
    public let project: AddonProject
    /// The project folder as the user named it, for messages.
    public let displayDirectory: String
    /// Where rendered pages are kept between builds; nil renders every page.
    public let cache: BuildCache?
    /// Only the diagnostics are wanted (`hipkit validate`): a step may check what it would make
    /// without making it, where that is much cheaper and finds the same problems.
    public let checkOnly: Bool
    /// Whether loading and checking the spec found errors (reported before the steps run).
    public let specHasErrors: Bool

    /// The site so far, with where each file came from (a project file, or what made it).
    public internal(set) var files: [SiteFile] = []
    public internal(set) var origins: [String] = []
    public internal(set) var diagnostics: [Diagnostic] = []

    /// Markdown sources, sorted, and the page each becomes (made by ``BuildStep/collectPages``).
    var pageSources: [String] = []
    var pageOutputs: [String: String] = [:]
    var pagesByOutput: [String: String] = [:]
    /// Made by ``BuildStep/loadLayouts``.
    var layouts: LayoutLibrary?
    /// Made by ``BuildStep/renderPages``.
    var titles: [String: String] = [:]
    var linkedAssets: [String] = []
    /// Made by ``BuildStep/startCrops``.
    var crops: ListingCrops?

    public init(project: AddonProject, cache: BuildCache? = nil, checkOnly: Bool = false, specHasErrors: Bool = false) {
        self.project = project
        self.displayDirectory = (project.specFile as NSString).deletingLastPathComponent
        self.cache = cache
        self.checkOnly = checkOnly
        self.specHasErrors = specHasErrors
    }

    mutating func add(_ file: SiteFile, from origin: String) {
        files.append(file)
        origins.append(origin)
    }
}

/// One named step of a build, timed on its own (`hipkit build --timings`).
public struct BuildStep: Sendable {
    public let name: String
    let body: @Sendable (inout BuildContext) -> Void

    init(_ name: String, _ body: @escaping @Sendable (inout BuildContext) -> Void) {
        self.name = name
        self.body = body
    }

    /// Every step of a build, in the order they run.
    public static let all: [BuildStep] = [
        startCrops, collectPages, loadLayouts, renderPages, copyAssets, glanceData, preview, listing, descriptor,
        runtimeManifest, collisionCheck, answeredURLs,
    ]

    /// Runs `steps` in order over `context`, timing each.
    public static func run(_ steps: [BuildStep] = all, on context: inout BuildContext) -> [BuildTiming] {
        steps.map { step in
            let duration = ContinuousClock().measure { step.body(&context) }
            return BuildTiming(step: step.name, duration: duration)
        }
    }
}

/// How long one step took.
public struct BuildTiming: Sendable, Equatable {
    public var step: String
    public var duration: Duration

    public init(step: String, duration: Duration) {
        self.step = step
        self.duration = duration
    }

    /// The duration in milliseconds.
    public var milliseconds: Double { duration.inMilliseconds }
}
