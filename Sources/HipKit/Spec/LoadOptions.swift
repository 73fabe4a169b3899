/// Choices that change how a project is read.
public struct LoadOptions: Sendable {
    /// The environment of `environments:` whose settings apply (`--env`).
    public var environment: String?
    /// A base URL that wins over the spec's (`--base-url`).
    public var baseUrl: String?

    public init(environment: String? = nil, baseUrl: String? = nil) {
        self.environment = environment
        self.baseUrl = baseUrl
    }

    /// `url` when it is an http or https URL usable as a base; throws otherwise.
    public static func validatedBaseUrl(_ url: String) throws -> String {
        try ProjectLoader.checkBaseUrl(url)
        return url
    }
}
