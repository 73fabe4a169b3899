import Foundation
import HipChatConnect
import HipKit
import Logging

/// `hipkit copy-store SOURCE TARGET`: moves everything from one store to another — a data
/// folder's SQLite file or a PostgreSQL database — so going from one server to several is one
/// command.
public enum StoreCopy {
    /// A store named on the command line: a `postgres://` URL, else a data folder.
    public enum Address: Sendable, CustomStringConvertible {
        case dataFolder(URL)
        case postgres(DatabaseURL)

        public init(_ text: String) throws(DatabaseURLError) {
            let lowered = text.lowercased()
            if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
                self = .postgres(try DatabaseURL(text))
            } else if DatabaseURL.hasScheme(text) {
                // `mysql://host/db` is not a folder called `mysql:`.
                throw DatabaseURLError(
                    "'\(DatabaseURL.redacted(text))' is neither a data folder nor a postgres:// URL: "
                        + "hipkit keeps its store in SQLite (a folder) or PostgreSQL")
            } else {
                self = .dataFolder(URL(fileURLWithPath: text, isDirectory: true).standardizedFileURL)
            }
        }

        public var description: String {
            switch self {
            case .dataFolder(let folder): ProjectLoader.displayPath(folder)
            case .postgres(let url): url.description
            }
        }
    }

    public struct Outcome: Sendable, Equatable {
        public var installations: Int
        public var glanceData: Int
        public var settings: Int
    }

    /// Copies `source` into `target`, which must be empty (nothing is changed when it is not).
    ///
    /// Keys: a data folder with a `secret.key` is opened with it; one without, and every
    /// PostgreSQL database, with `HIPKIT_SECRET_KEY` — so a folder moves to PostgreSQL under the
    /// key its servers will share. A new data folder without that variable gets a key file.
    ///
    /// Pushes still in the source's outbox (glance updates and notifications HipChat has not
    /// taken yet) are not copied: each was acknowledged, and a server delivers them, retrying,
    /// across restarts. Unless `droppingPending`, a source holding any is refused, so that none
    /// is lost without a word.
    public static func copy(
        from source: Address, to target: Address, secretKey: String?, droppingPending: Bool = false, logger: Logger
    ) async throws -> Outcome {
        if case .dataFolder(let a) = source, case .dataFolder(let b) = target,
            (FileStat.realPath(a.path) ?? a.path) == (FileStat.realPath(b.path) ?? b.path)
        {
            throw HipKitError(
                "\(source) is both the source and the target; copy-store changed nothing",
                hint: "name a new or empty folder, or a postgres:// database, to copy into")
        }
        let (from, sourceLock) = try await open(source, secretKey: secretKey, mustExist: true, logger: logger)
        defer { withExtendedLifetime(sourceLock) {} }
        let contents: StoreContents
        do {
            if !droppingPending, try await from.nextPushDue() != nil {
                throw HipKitError(
                    "\(source) still holds pushes not yet delivered (glance updates or notifications HipChat has not taken), which copy-store does not copy; nothing was copied",
                    hint:
                        "start a server on \(source) until they go out (it retries them), or pass --drop-pending to copy without them"
                )
            }
            contents = try await from.contents()
            try await from.close()
        } catch {
            try? await from.close()
            throw error
        }
        let (to, targetLock) = try await open(target, secretKey: secretKey, mustExist: false, logger: logger)
        defer { withExtendedLifetime(targetLock) {} }
        do {
            try await to.restore(contents)
            try await to.close()
        } catch {
            try? await to.close()
            throw error
        }
        return Outcome(
            installations: contents.installations.count, glanceData: contents.glanceData.count,
            settings: contents.settings.count)
    }

    /// The store at `address`, and for a data folder its ``FolderLock``, held alone: a
    /// server running there is refused, as one starting there is while the copy runs.
    private static func open(_ address: Address, secretKey: String?, mustExist: Bool, logger: Logger) async throws
        -> (any InstallationStore, FolderLock?)
    {
        switch address {
        case .postgres(let url):
            guard let secretKey, !secretKey.isEmpty else {
                throw HipKitError(
                    "\(url) needs HIPKIT_SECRET_KEY",
                    hint: "the key every server on that database shares (`openssl rand -base64 32` for a new one)")
            }
            return (
                try await PostgresStore.open(
                    url: url, secrets: SecretBox(keyBytes: SecretBox.parseKey(secretKey)), logger: logger), nil
            )
        case .dataFolder(let folder):
            let file = folder.appendingPathComponent("hipkit.sqlite")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                throw HipKitError(
                    "\(ProjectLoader.displayPath(folder)) is a file, not a data folder",
                    hint: mustExist
                        ? SQLiteStore.dataFolderHint
                        : "name a new or empty folder, or a postgres:// database, to copy into")
            }
            if mustExist, !FileManager.default.fileExists(atPath: file.path) {
                throw SQLiteStore.noStore(in: folder)
            }
            let lock = try FolderLock.alone(in: folder, for: "copy-store")
            let hasKeyFile = FileManager.default.fileExists(
                atPath: folder.appendingPathComponent(SecretBox.keyFileName).path)
            do {
                return (try SQLiteStore(file: file, secretKey: hasKeyFile ? nil : secretKey), lock)
            } catch SecretKeyError.wrongKey where hasKeyFile && !(secretKey ?? "").isEmpty {
                // A key file left behind when the key moved to HIPKIT_SECRET_KEY (and rotated
                // there since): the servers read the folder with the variable, and so does this.
                return (try SQLiteStore(file: file, secretKey: secretKey), lock)
            }
        }
    }
}
