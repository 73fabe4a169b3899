import Crypto
import Foundation
import HipChatConnect
import HipKit
import Logging

/// Changes the key that encrypts a data folder's secrets (`hipkit rotate-key`), without losing
/// an installation whatever moment it is interrupted at.
///
/// With the key in the data folder, a new random key is first written to `secret.key.new`
/// (flushed to disk); the store is then re-encrypted in one transaction; and the new file is
/// renamed over `secret.key`. Interrupted before the transaction commits, the store is still
/// under the old key, which `secret.key` still holds; after, the store is under the key of
/// `secret.key.new`, which the next run finds and finishes installing. With the key in
/// `HIPKIT_SECRET_KEY`, the new one comes from `HIPKIT_NEW_SECRET_KEY` and the store is
/// re-encrypted in one transaction; moving the new key into the environment is the caller's
/// part, since hipkit cannot write it there.
///
/// Servers using the data folder must be stopped first: they keep the old key in memory.
public enum KeyRotation {
    /// What a rotation did.
    public struct Outcome: Sendable, Equatable {
        /// Installations whose secrets were re-encrypted (0 when an interrupted rotation had
        /// already re-encrypted them and only the key file was left to install).
        public var reencrypted: Int
        /// Whether the new key was installed as the data folder's `secret.key`; false when it
        /// is to go into `HIPKIT_SECRET_KEY`.
        public var keyFileReplaced: Bool
    }

    /// Rotates the key of the store `databaseFile`, whose key file (if any) is in `dataDirectory`.
    ///
    /// - Parameters:
    ///   - currentKey: the value of `HIPKIT_SECRET_KEY`, or nil when the key is the data
    ///     folder's `secret.key`.
    ///   - newKey: the value of `HIPKIT_NEW_SECRET_KEY`: required with `currentKey`; with the
    ///     key file, optional (a random key is made when it is nil).
    public static func rotate(databaseFile: URL, dataDirectory: URL, currentKey: String?, newKey: String?) async throws
        -> Outcome
    {
        guard FileManager.default.fileExists(atPath: databaseFile.path) else {
            throw SQLiteStore.noStore(in: dataDirectory, "there is nothing to re-encrypt")
        }
        // A server running on the folder keeps the old key in memory: it could open no secret.
        let lock = try FolderLock.alone(in: dataDirectory, for: "rotate-key")
        defer { withExtendedLifetime(lock) {} }
        if let currentKey, !currentKey.isEmpty {
            guard let newKey, !newKey.isEmpty else {
                throw SecretKeyError.badKey(
                    "\(SecretBox.newEnvironmentVariable) is not set: with the key in \(SecretBox.environmentVariable), "
                        + "give the new one in \(SecretBox.newEnvironmentVariable)")
            }
            let (old, new) = try boxes(current: currentKey, new: newKey)
            let count = try await reencrypt(databaseFile, from: old, to: new)
            return Outcome(reencrypted: count, keyFileReplaced: false)
        }

        let keyPath = dataDirectory.appendingPathComponent(SecretBox.keyFileName).path
        guard let oldBytes = try SecretBox.readKeyFile(keyPath) else {
            throw SecretKeyError.keyFile(
                keyPath,
                "does not exist, and \(SecretBox.environmentVariable) is not set: "
                    + "give the key the store was written with")
        }
        let given = try newKey.flatMap { $0.isEmpty ? nil : $0 }.map(parseNewKey)
        if let given, given == oldBytes {
            throw SecretKeyError.badKey(
                "\(SecretBox.newEnvironmentVariable) is the key in \(SecretBox.keyFileName) already: "
                    + "give a new one, or none for a random one")
        }
        let fresh = given ?? SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let newBytes = try SecretBox.pendingKeyFile(in: dataDirectory, fresh: fresh)
        let new = try SecretBox(keyBytes: newBytes)
        let count: Int
        do {
            count = try await reencrypt(databaseFile, from: SecretBox(keyBytes: oldBytes), to: new)
        } catch SecretKeyError.wrongKey {
            // The old key no longer opens the store: an interrupted rotation re-encrypted it
            // already, when the pending key does open it.
            let store = try SQLiteStore(file: databaseFile, secrets: new)
            try await store.close()
            count = 0
        }
        try SecretBox.installPendingKeyFile(in: dataDirectory)
        return Outcome(reencrypted: count, keyFileReplaced: true)
    }

    /// Re-encrypts the secrets of the PostgreSQL store at `url` from `currentKey` to `newKey`
    /// (`HIPKIT_SECRET_KEY` and `HIPKIT_NEW_SECRET_KEY`); both are required, there being no key
    /// file. Every instance still running refuses the installations' requests from then on, until
    /// it is restarted with the new key.
    public static func rotate(database url: DatabaseURL, currentKey: String?, newKey: String?, logger: Logger)
        async throws -> Outcome
    {
        guard let currentKey, !currentKey.isEmpty else {
            throw SecretKeyError.badKey("--database needs the current key in \(SecretBox.environmentVariable)")
        }
        guard let newKey, !newKey.isEmpty else {
            throw SecretKeyError.badKey(
                "give the new key in \(SecretBox.newEnvironmentVariable) (`openssl rand -base64 32` makes one)")
        }
        let (old, new) = try boxes(current: currentKey, new: newKey)
        let store = try await PostgresStore.open(url: url, secrets: old, logger: logger)
        do {
            let count = try await store.rotateKey(to: new)
            try await store.close()
            return Outcome(reencrypted: count, keyFileReplaced: false)
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// Whether a rotation was interrupted after the store changed key: the hint a server that
    /// cannot open its store gives.
    public static func interruptedRotationHint(dataDirectory: URL) -> String? {
        let pending = dataDirectory.appendingPathComponent(SecretBox.pendingKeyFileName).path
        guard FileManager.default.fileExists(atPath: pending) else { return nil }
        return "\(pending) is there: a `hipkit rotate-key` was interrupted; run it again to finish"
    }

    /// The new key, refused in its own variable's name.
    /// The current and new keys given in the environment, which must differ: a "rotation" to
    /// the same key changed nothing, and said the old key no longer opened the store.
    private static func boxes(current: String, new: String) throws(SecretKeyError) -> (SecretBox, SecretBox) {
        let currentBytes = try SecretBox.parseKey(current)
        let newBytes = try parseNewKey(new)
        guard currentBytes != newBytes else {
            throw SecretKeyError.badKey(
                "\(SecretBox.newEnvironmentVariable) is the key \(SecretBox.environmentVariable) is already: "
                    + "give a new one (`openssl rand -base64 32`)")
        }
        return (try SecretBox(keyBytes: currentBytes), try SecretBox(keyBytes: newBytes))
    }

    private static func parseNewKey(_ text: String) throws(SecretKeyError) -> Data {
        do {
            return try SecretBox.parseKey(text)
        } catch {
            throw .badKey(
                "\(SecretBox.newEnvironmentVariable) is not a 256-bit key: give 32 bytes as base64 (44 characters) or as 64 hexadecimal digits"
            )
        }
    }

    private static func reencrypt(_ file: URL, from old: SecretBox, to new: SecretBox) async throws -> Int {
        let store = try SQLiteStore(file: file, secrets: old)
        do {
            let count = try await store.rotateKey(to: new)
            try await store.close()
            return count
        } catch {
            try? await store.close()
            throw error
        }
    }
}
