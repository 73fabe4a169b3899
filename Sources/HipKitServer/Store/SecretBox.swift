import Crypto
import Foundation
import HipChatConnect

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Encrypts the secrets the store keeps (each installation's `oauthSecret`), so that a copy of
/// `hipkit.sqlite` — a backup, a disk image, a file left readable — does not give away the keys
/// that sign HipChat's JWTs and obtain API tokens.
///
/// AES-256-GCM, with a fresh random nonce per value. A stored value reads
/// `v1:` + base64(nonce ‖ ciphertext ‖ tag): the prefix names the format so that a later one can
/// be told apart. The caller binds each value to its row (``seal(_:boundTo:)`` with the
/// installation's `oauthId`) as associated data: a secret copied into another row, or altered
/// in any way, fails to open instead of verifying tokens for the wrong installation.
///
/// The key is 256 bits, from `HIPKIT_SECRET_KEY` or from `secret.key` in the data folder
/// (see ``load(environmentValue:dataDirectory:)``). Cached API tokens are not stored at all:
/// they live in memory only.
public struct SecretBox: Sendable {
    /// The version prefix of a stored value.
    public static let prefix = "v1:"
    /// The key file's name in the data folder.
    public static let keyFileName = "secret.key"
    /// The environment variable holding the key.
    public static let environmentVariable = "HIPKIT_SECRET_KEY"
    /// The environment variable holding the next key, while `hipkit rotate-key` changes to it.
    public static let newEnvironmentVariable = "HIPKIT_NEW_SECRET_KEY"
    /// The next key file, written before the store is re-encrypted and renamed to
    /// ``keyFileName`` after: while it exists, a rotation is under way or was interrupted.
    public static let pendingKeyFileName = "secret.key.new"

    private let key: SymmetricKey

    /// A box with `keyBytes`, which must be 32 bytes.
    public init(keyBytes: some DataProtocol) throws(SecretKeyError) {
        guard keyBytes.count == 32 else { throw .badKey("the key is \(keyBytes.count) bytes; AES-256 needs 32") }
        key = SymmetricKey(data: Data(keyBytes))
    }

    /// A box with a new random key, for tests and throwaway stores.
    public static func random() -> SecretBox {
        try! SecretBox(keyBytes: SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
    }

    // MARK: Sealing

    /// `plaintext` encrypted and bound to `context` (an installation's `oauthId`).
    public func seal(_ plaintext: String, boundTo context: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: key, authenticating: Self.associatedData(context))
        // `combined` is nonce ‖ ciphertext ‖ tag; non-nil for the default 12-byte nonce.
        return Self.prefix + box.combined!.base64EncodedString()
    }

    /// The plaintext of a value ``seal(_:boundTo:)`` made with the same key and `context`.
    /// Throws ``SecretKeyError/notSealed`` for a value without the prefix and
    /// ``SecretKeyError/cannotOpen`` for one that was altered, moved, or sealed with another key.
    public func open(_ stored: String, boundTo context: String) throws(SecretKeyError) -> String {
        guard stored.hasPrefix(Self.prefix) else { throw .notSealed(context) }
        guard let combined = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))),
            let box = try? AES.GCM.SealedBox(combined: combined),
            let plaintext = try? AES.GCM.open(box, using: key, authenticating: Self.associatedData(context)),
            let text = String(data: plaintext, encoding: .utf8)
        else {
            throw .cannotOpen(context)
        }
        return text
    }

    /// What a value is bound to: its purpose and its row. The purpose keeps a value of one kind
    /// from being accepted as another, should the store keep more kinds of secrets one day.
    private static func associatedData(_ context: String) -> Data {
        Data("hipkit.installation.oauth_secret\u{0}\(context)".utf8)
    }

    // MARK: The key

    /// The key from `environmentValue` (the value of `HIPKIT_SECRET_KEY`) when set, else from
    /// `dataDirectory/secret.key`, created on first use.
    ///
    /// The environment wins so that a deployment can keep the key out of the data folder (and
    /// out of its backups) altogether.
    public static func load(environmentValue: String?, dataDirectory: URL) throws(SecretKeyError) -> SecretBox {
        if let environmentValue, !environmentValue.isEmpty {
            return try SecretBox(keyBytes: parseKey(environmentValue))
        }
        return try SecretBox(keyBytes: keyFile(in: dataDirectory))
    }

    /// 32 bytes from 64 hexadecimal digits or from base64 (standard or URL-safe, padding
    /// optional). Anything else is refused: a key of the wrong size is a mistake, and silently
    /// hashing or padding it would hide that.
    public static func parseKey(_ text: String) throws(SecretKeyError) -> Data {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.utf8.count == 64, let bytes = hexBytes(text) { return bytes }
        if let bytes = Base64URL.decode(Substring(text)), bytes.count == 32 { return bytes }
        throw .badKey(
            "\(environmentVariable) is not a 256-bit key: give 32 bytes as base64 (44 characters) or as 64 hexadecimal digits"
        )
    }

    private static func hexBytes(_ text: String) -> Data? {
        var bytes = Data(capacity: text.utf8.count / 2)
        var high: UInt8?
        for unit in text.utf8 {
            let value: UInt8
            switch unit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = unit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = unit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = unit - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let h = high {
                bytes.append(h << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return bytes
    }

    /// The 32 raw bytes of `directory/secret.key`, creating the file with a new random key
    /// when there is none.
    ///
    /// Created atomically and never overwritten: the key is written to a private temporary file
    /// (mode 0600 from the start, flushed to disk), which is then hard-linked to its name —
    /// `link` fails when the name exists, so two servers starting at once cannot replace each
    /// other's key, and nobody ever sees a half-written one. An existing file is refused when it
    /// is not exactly 32 bytes, not a regular file, or open to group or others: the key must not
    /// be guessed at, and a key others can read protects nothing.
    static func keyFile(in directory: URL) throws(SecretKeyError) -> Data {
        let path = directory.appendingPathComponent(keyFileName).path
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw .keyFile(path, "its folder cannot be created: \(error.localizedDescription)")
        }
        if let existing = try readKeyFile(path) { return existing }

        let fresh = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let temporary = directory.appendingPathComponent(".\(keyFileName).\(UUID().uuidString)").path
        let fd = posixOpen(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .keyFile(path, "cannot be created: \(String(cString: strerror(errno)))") }
        defer { unlink(temporary) }
        let written = fresh.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == fresh.count, synced else {
            throw .keyFile(path, "cannot be written: \(String(cString: strerror(errno)))")
        }
        if link(temporary, path) != 0 {
            let failure = errno
            // Another server created it first: use theirs.
            if failure == EEXIST, let existing = try readKeyFile(path) { return existing }
            throw .keyFile(path, "cannot be created: \(String(cString: strerror(failure)))")
        }
        // Make the new name durable too.
        let directoryFD = posixOpen(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
        return fresh
    }

    /// The bytes of a pending key file (``pendingKeyFileName``): those of an earlier, interrupted
    /// rotation when there is one, else `fresh`, written to it first (0600, flushed, created
    /// with `O_EXCL`), so that the new key is safe on disk before any secret depends on it.
    static func pendingKeyFile(in directory: URL, fresh: Data) throws(SecretKeyError) -> Data {
        let path = directory.appendingPathComponent(pendingKeyFileName).path
        if let existing = try readKeyFile(path) { return existing }
        let fd = posixOpen(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .keyFile(path, "cannot be created: \(String(cString: strerror(errno)))") }
        let written = fresh.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == fresh.count, synced else {
            unlink(path)
            throw .keyFile(path, "cannot be written: \(String(cString: strerror(errno)))")
        }
        syncDirectory(directory)
        return fresh
    }

    /// Makes the pending key file the key file, in one rename.
    static func installPendingKeyFile(in directory: URL) throws(SecretKeyError) {
        let pending = directory.appendingPathComponent(pendingKeyFileName).path
        let path = directory.appendingPathComponent(keyFileName).path
        guard rename(pending, path) == 0 else {
            throw .keyFile(path, "cannot be replaced: \(String(cString: strerror(errno)))")
        }
        syncDirectory(directory)
    }

    /// Flushes a folder, so that a name just created or renamed in it survives a power cut.
    private static func syncDirectory(_ directory: URL) {
        let fd = posixOpen(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    /// The key in an existing key file; nil when there is no file.
    static func readKeyFile(_ path: String) throws(SecretKeyError) -> Data? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw .keyFile(path, "cannot be read: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & mode_t(S_IFMT) == mode_t(S_IFREG) else { throw .keyFile(path, "is not a regular file") }
        guard info.st_mode & 0o077 == 0 else {
            throw .keyFile(
                path,
                "is open to group or others (mode \(String(info.st_mode & 0o777, radix: 8))); "
                    + "run `chmod 600 \(path)`, and treat the key as exposed if others could read it")
        }
        guard info.st_size == 32 else {
            throw .keyFile(
                path,
                "is \(info.st_size) bytes, not the 32 of a key; restore it from your backup "
                    + "(the installations cannot be read without it)")
        }
        guard let data = FileManager.default.contents(atPath: path), data.count == 32 else {
            throw .keyFile(path, "cannot be read")
        }
        return data
    }
}

/// `open(2)`, named apart from ``SecretBox/open(_:boundTo:)``.
private func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    #if canImport(Glibc)
        Glibc.open(path, flags, mode)
    #else
        Darwin.open(path, flags, mode)
    #endif
}

/// Why the secrets' key cannot be used, or a stored secret cannot be read. Each message says
/// what to do.
public enum SecretKeyError: Error, Sendable, CustomStringConvertible, Equatable {
    /// `HIPKIT_SECRET_KEY` (or given key bytes) is not a 256-bit key.
    case badKey(String)
    /// The key file exists but cannot be used, or cannot be created.
    case keyFile(String, String)
    /// The store's secrets were sealed with another key.
    case wrongKey
    /// The data folder (its path) holds secrets sealed with a key, but no key file, and no key
    /// was given.
    case missingKey(String)
    /// The stored secret of this installation was altered or moved from another row.
    case cannotOpen(String)
    /// The stored secret of this installation is not encrypted (written around the server).
    case notSealed(String)

    public var description: String {
        switch self {
        case .badKey(let message):
            "\(message); make one with `openssl rand -base64 32`"
        case .keyFile(let path, let problem):
            "the key file \(path) \(problem)"
        case .wrongKey:
            "the data folder's secrets were encrypted with another key: set \(SecretBox.environmentVariable) (or put back "
                + "\(SecretBox.keyFileName)) to the key they were written with; the installations cannot be read without it"
        case .missingKey(let folder):
            "\(folder) holds secrets sealed with a key but no \(SecretBox.keyFileName): set "
                + "\(SecretBox.environmentVariable) to the key they were written with (or put its "
                + "\(SecretBox.keyFileName) back)"
        case .cannotOpen(let oauthId):
            "the stored secret of installation \(oauthId) cannot be decrypted: it was altered or copied from another row"
        case .notSealed(let oauthId):
            "the stored secret of installation \(oauthId) is not encrypted; it was written around the server"
        }
    }
}
