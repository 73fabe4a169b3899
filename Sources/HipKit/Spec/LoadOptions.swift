import HipChatConnect

/// Choices that change how a project is read.
public struct LoadOptions: Sendable {
    /// The environment of `environments:` whose settings apply (`--env`).
    public var environment: String?
    /// A base URL that wins over the spec's (`--base-url`).
    public var baseUrl: String?
    /// A HipChat whose JavaScript API and stylesheet the pages load instead of the spec's
    /// (`{host}/atlassian-connect/all.js` and `all.css`): `hipkit dev` points the pages at
    /// its local HipChat, since the real one is gone. Project files named by `hipchatJs` or
    /// `hipchatCss` are kept.
    public var hipchatHost: String?

    public init(environment: String? = nil, baseUrl: String? = nil, hipchatHost: String? = nil) {
        self.environment = environment
        self.baseUrl = baseUrl
        self.hipchatHost = hipchatHost
    }

    /// `url` when it is an http or https URL usable as a base; throws otherwise.
    public static func validatedBaseUrl(_ url: String) throws -> String {
        try ProjectLoader.checkBaseUrl(url)
        return url
    }
}
