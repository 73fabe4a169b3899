import Foundation
import HipKit

/// A `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…]` URL, as `--database` and
/// `HIPKIT_DATABASE_URL` give it, read the way libpq reads it.
public struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    /// libpq's `sslmode`: whether the connection to the database is encrypted, and whether the
    /// server's certificate is checked.
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    /// Reads `text`; throws a message that says what is wrong and what a right URL looks like.
    public init(_ text: String) throws(DatabaseURLError) {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql"
        else {
            throw DatabaseURLError("'\(Self.redacted(text))' is not a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw DatabaseURLError("the database URL names no host")
        }
        guard let user = components.user.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw DatabaseURLError("the database URL names no user (postgres://USER@HOST/DB)")
        }
        let database = String(components.path.drop { $0 == "/" }).removingPercentEncoding ?? ""
        guard !database.isEmpty, !database.contains("/") else {
            throw DatabaseURLError("the database URL names no database (postgres://USER@HOST/DB)")
        }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw DatabaseURLError(
                        "sslmode is '\(item.value ?? "")'; use one of "
                            + TLSMode.allCases.map(\.rawValue).joined(separator: ", "))
                }
                tls = mode
            default:
                throw DatabaseURLError("the database URL's parameter '\(item.name)' is not supported (only sslmode)")
            }
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user
        self.password = components.password.flatMap { $0.removingPercentEncoding }
        self.database = database
        self.tls = tls
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }

    /// Whether `text` starts with a URL scheme and `://` (`mysql://…`), which no path given on
    /// the command line is meant to.
    static func hasScheme(_ text: String) -> Bool {
        guard URLReference.isAbsolute(text), let colon = text.firstIndex(of: ":") else { return false }
        return text[colon...].hasPrefix("://")
    }

    /// `text` with its password, if any, as `***`.
    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }
}

public struct DatabaseURLError: Error, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
