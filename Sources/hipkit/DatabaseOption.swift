import ArgumentParser
import Foundation
import HipKitServer

/// `--database`, or `HIPKIT_DATABASE_URL` without it, as `serve` and `rotate-key` read it.
///
/// The commands read it in `validate()`, where ArgumentParser reports a bad URL with the
/// command's own usage line (from `run()` it would print the root command's), and again in
/// `run()` to use it.
enum DatabaseOption {
    /// The database named, or nil for none (the option and the variable unset or empty).
    static func url(_ option: String?) throws -> DatabaseURL? {
        guard let text = option ?? ProcessInfo.processInfo.environment[ServerConfiguration.databaseVariable],
            !text.isEmpty
        else { return nil }
        do {
            return try DatabaseURL(text)
        } catch {
            throw ValidationError(
                option == nil ? "\(ServerConfiguration.databaseVariable): \(error)" : "--database: \(error)")
        }
    }
}
