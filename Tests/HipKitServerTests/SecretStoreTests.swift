import Crypto
import Foundation
import GRDB
import HipChatConnect
import HipKit
import Hummingbird
import HummingbirdTesting
import Logging
import TestProcesses
import Testing

@testable import HipKitServer

@Suite("Secrets at rest", .serialized)
struct SecretStoreTests {
    static func file(_ site: TestSite) -> URL { site.data.appendingPathComponent("hipkit.sqlite") }

    /// The bytes of the database and its WAL, where SQLite may have put any row.
    static func rawBytes(_ file: URL) -> Data {
        var data = Data()
        for suffix in ["", "-wal"] {
            if let bytes = FileManager.default.contents(atPath: file.path + suffix) { data.append(bytes) }
        }
        return data
    }

    /// The `oauth_secret` column as stored, read around the store.
    static func storedSecret(_ file: URL, _ oauthId: String) throws -> String? {
        let queue = try DatabaseQueue(path: file.path)
        defer { try? queue.close() }
        return try queue.read {
            try String.fetchOne(
                $0, sql: "SELECT oauth_secret FROM installation WHERE oauth_id = ?", arguments: [oauthId])
        }
    }

    static func write(_ file: URL, _ sql: String, _ arguments: StatementArguments = []) throws {
        let queue = try DatabaseQueue(path: file.path)
        defer { try? queue.close() }
        try queue.write { try $0.execute(sql: sql, arguments: arguments) }
    }

    @Test("the database file and its WAL never hold a secret's bytes, only v1: ciphertext")
    func rawFileHoldsNoSecret() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let file = Self.file(site)
        let store = try SQLiteStore(file: file)
        try await store.upsert(Fixture.installation())
        try await store.upsert(Fixture.installation(Fixture.otherId, secret: Fixture.otherSecret))
        // While open (the rows are in the WAL) and after closing (checkpointed into the file).
        for secret in [Fixture.secret, Fixture.otherSecret] {
            #expect(Self.rawBytes(file).range(of: Data(secret.utf8)) == nil)
        }
        try await store.close()
        let raw = Self.rawBytes(file)
        #expect(raw.count > 0)
        #expect(raw.range(of: Data(Fixture.oauthId.utf8)) != nil, "the file was read: the oauthId is there in clear")
        for secret in [Fixture.secret, Fixture.otherSecret] {
            #expect(raw.range(of: Data(secret.utf8)) == nil)
        }
        let stored = try #require(try Self.storedSecret(file, Fixture.oauthId))
        #expect(stored.hasPrefix("v1:"))
        // nonce (12) + ciphertext (40) + tag (16), in base64.
        #expect(Data(base64Encoded: String(stored.dropFirst(3)))?.count == 12 + 40 + 16)
        // A fresh nonce each time: the same secret stored twice reads differently.
        let again = try SQLiteStore(file: file)
        try await again.upsert(Fixture.installation())
        try await again.close()
        #expect(try Self.storedSecret(file, Fixture.oauthId) != stored)
    }

    @Test("a restart with the same key reads the installations, from the key file or the environment")
    func restartSameKey() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let file = Self.file(site)
        let first = try SQLiteStore(file: file)
        try await first.upsert(Fixture.installation(roomId: 42))
        try await first.close()
        let second = try SQLiteStore(file: file)
        #expect(try await second.installation(oauthId: Fixture.oauthId)?.oauthSecret == Fixture.secret)
        #expect(try await second.installations().map(\.oauthSecret) == [Fixture.secret])
        try await second.close()

        // The whole server, with a key from the environment, twice.
        let other = try TestSite()
        defer { other.remove() }
        var configuration = other.configuration(verifyInstalls: false)
        configuration.secretKey = Data(repeating: 7, count: 32).base64EncodedString()
        for round in 0..<2 {
            let app = try HipKitServer(configuration: configuration, logger: .init(label: "test")).makeApplication()
            try await app.test(.router) { client in
                if round == 0 {
                    let install = try await client.execute(
                        uri: "/installed", method: .post, headers: [.contentType: "application/json"],
                        body: jsonBody(
                            #"{"oauthId": "\#(Fixture.oauthId)", "oauthSecret": "\#(Fixture.secret)", "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities", "groupId": 1}"#
                        ))
                    #expect(install.status == .ok)
                }
                let token = try await Tokens.mint()
                #expect(
                    try await client.execute(uri: "/incidents.html?signed_request=\(token)", method: .get).status
                        == .ok, "round \(round)")
            }
        }
        // With the key in the environment, no key file is made.
        #expect(!FileManager.default.fileExists(atPath: other.data.appendingPathComponent("secret.key").path))
    }

    @Test("another key is refused at open with a clear error, even for a store with no installation yet")
    func differentKeyRefused() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let file = Self.file(site)
        let key = SecretBox.random()
        let store = try SQLiteStore(file: file, secrets: key)
        try await store.upsert(Fixture.installation())
        try await store.close()

        #expect(throws: SecretKeyError.wrongKey) { _ = try SQLiteStore(file: file, secrets: SecretBox.random()) }
        #expect(
            SecretKeyError.wrongKey.description.contains("the data folder's secrets were encrypted with another key"))
        // Through the server: refused before anything listens, saying what to do.
        var configuration = site.configuration()
        configuration.secretKey = String(repeating: "ab", count: 32)
        #expect {
            _ = try HipKitServer(configuration: configuration).makeApplication()
        } throws: { error in
            let text = "\(error)"
            return text.contains("encrypted with another key") && text.contains("HIPKIT_SECRET_KEY")
        }
        // The right key still opens it: the refusal changed nothing.
        let reopened = try SQLiteStore(file: file, secrets: key)
        #expect(try await reopened.installation(oauthId: Fixture.oauthId)?.oauthSecret == Fixture.secret)
        try await reopened.close()

        let empty = try TestSite()
        defer { empty.remove() }
        try await SQLiteStore(file: Self.file(empty), secrets: SecretBox.random()).close()
        #expect(throws: SecretKeyError.wrongKey) {
            _ = try SQLiteStore(file: Self.file(empty), secrets: SecretBox.random())
        }
    }

    /// A folder whose secrets were sealed with HIPKIT_SECRET_KEY has no key file; opened without
    /// the variable, no key file is left there (it would stand in the way of the right key):
    /// serve and copy-store say what to do, and leave the folder as it was.
    @Test("a database without its key file gets none left beside it: serve and copy-store refuse, saying what to do")
    func noNewKeyBesideADatabase() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let key = String(repeating: "cd", count: 32)
        let store = try SQLiteStore(file: Self.file(site), secrets: SecretBox(keyBytes: SecretBox.parseKey(key)))
        try await store.upsert(Fixture.installation())
        try await store.close()
        let keyFile = site.data.appendingPathComponent(SecretBox.keyFileName)

        #expect(throws: SecretKeyError.missingKey(site.data.path)) {
            _ = try SQLiteStore(file: Self.file(site), secretKey: nil)
        }
        #expect(!FileManager.default.fileExists(atPath: keyFile.path))
        #expect {
            _ = try HipKitServer(configuration: site.configuration()).makeApplication()
        } throws: { error in
            "\(error)".contains("holds secrets sealed with a key but no secret.key")
        }
        let copy = site.root.appendingPathComponent("copy")
        await #expect(throws: SecretKeyError.missingKey(site.data.path)) {
            _ = try await StoreCopy.copy(
                from: .dataFolder(site.data), to: .dataFolder(copy), secretKey: nil, logger: Logger(label: "test"))
        }
        #expect(!FileManager.default.fileExists(atPath: keyFile.path))

        // With the key, the copy goes through, and the source still has no key file.
        _ = try await StoreCopy.copy(
            from: .dataFolder(site.data), to: .dataFolder(copy), secretKey: key, logger: Logger(label: "test"))
        #expect(!FileManager.default.fileExists(atPath: keyFile.path))
        let copied = try SQLiteStore(
            file: copy.appendingPathComponent("hipkit.sqlite"), secrets: SecretBox(keyBytes: SecretBox.parseKey(key)))
        #expect(try await copied.installation(oauthId: Fixture.oauthId)?.oauthSecret == Fixture.secret)
        try await copied.close()
    }

    @Test("the key file is created 0600 with 32 random bytes, and never replaced")
    func keyFileCreated() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let keyFile = site.data.appendingPathComponent("secret.key")
        try await SQLiteStore(file: Self.file(site)).close()
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((attributes[.type] as? FileAttributeType) == .typeRegular)
        let key = try #require(FileManager.default.contents(atPath: keyFile.path))
        #expect(key.count == 32)
        #expect(key != Data(count: 32))
        // No temporary file is left behind.
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: site.data.path).filter { $0.contains("secret.key") }
                == ["secret.key"])
        try await SQLiteStore(file: Self.file(site)).close()
        #expect(FileManager.default.contents(atPath: keyFile.path) == key)
        // A second data folder gets its own key.
        let other = try TestSite()
        defer { other.remove() }
        try await SQLiteStore(file: Self.file(other)).close()
        #expect(FileManager.default.contents(atPath: other.data.appendingPathComponent("secret.key").path) != key)
    }

    @Test("a key file open to others, of the wrong size, or not a file is refused, and left as it is")
    func keyFileRefused() async throws {
        let cases: [(String, (URL) throws -> Void, String)] = [
            (
                "group-readable",
                {
                    try Data(count: 32).write(to: $0)
                    try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: $0.path)
                },
                "open to group or others"
            ),
            (
                "world-writable",
                {
                    try Data(count: 32).write(to: $0)
                    try FileManager.default.setAttributes([.posixPermissions: 0o602], ofItemAtPath: $0.path)
                },
                "chmod 600"
            ),
            (
                "short",
                {
                    try Data(count: 31).write(to: $0)
                    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: $0.path)
                },
                "is 31 bytes"
            ),
            (
                "empty",
                {
                    try Data().write(to: $0)
                    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: $0.path)
                },
                "is 0 bytes"
            ),
            (
                "link",
                { try FileManager.default.createSymbolicLink(atPath: $0.path, withDestinationPath: "/dev/zero") },
                "not a regular file"
            ),
        ]
        for (name, make, message) in cases {
            let site = try TestSite()
            defer { site.remove() }
            try FileManager.default.createDirectory(at: site.data, withIntermediateDirectories: true)
            let keyFile = site.data.appendingPathComponent("secret.key")
            try make(keyFile)
            let before = try FileManager.default.attributesOfItem(atPath: keyFile.path)
            #expect {
                _ = try HipKitServer(configuration: site.configuration()).makeApplication()
            } throws: { error in
                "\(error)".contains(message) && "\(error)".contains("secret.key")
            }
            let after = try FileManager.default.attributesOfItem(atPath: keyFile.path)
            #expect(before[.size] as? Int == after[.size] as? Int, "\(name)")
            #expect(before[.posixPermissions] as? Int == after[.posixPermissions] as? Int, "\(name)")
            #expect(!FileManager.default.fileExists(atPath: Self.file(site).path), "\(name): no database without a key")
        }
    }

    static let environmentKeys: [(String, Bool)] = {
        let urlSafe = Data(repeating: 0xFB, count: 32).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let notHex = String(repeating: "0", count: 62) + "g1"
        return [
            ("", false), ("short", false), (String(repeating: "a", count: 63), false),
            (String(repeating: "a", count: 66), false),
            (Data(count: 16).base64EncodedString(), false),
            (Data(repeating: 0xFF, count: 48).base64EncodedString(), false),
            (String(repeating: "zz", count: 32), false), (notHex, false),
            (Data(repeating: 1, count: 32).base64EncodedString(), true), (String(urlSafe.prefix(43)), true),
            (String(repeating: "0f", count: 32), true), (String(repeating: "A0", count: 32), true),
            ("  " + Data(repeating: 2, count: 32).base64EncodedString() + "\n", true),
        ]
    }()

    @Test(
        "HIPKIT_SECRET_KEY: base64 or 64 hex digits of 32 bytes; anything else is refused saying how to make one",
        arguments: environmentKeys)
    func environmentKey(_ text: String, _ valid: Bool) async throws {
        if valid {
            let bytes = try SecretBox.parseKey(text)
            #expect(bytes.count == 32)
            let box = try SecretBox(keyBytes: bytes)
            #expect(try box.open(box.seal("s3cret", boundTo: "x"), boundTo: "x") == "s3cret")
            return
        }
        #expect {
            _ = try SecretBox.parseKey(text)
        } throws: { error in
            guard case SecretKeyError.badKey = error else { return false }
            return "\(error)".contains("openssl rand -base64 32") && "\(error)".contains("HIPKIT_SECRET_KEY")
        }
        // The server refuses to start with it, before touching the data folder. (An empty value
        // means "not set": the key file is used.)
        guard !text.isEmpty else { return }
        let site = try TestSite()
        defer { site.remove() }
        var configuration = site.configuration()
        configuration.secretKey = text
        #expect { _ = try HipKitServer(configuration: configuration).makeApplication() } throws: {
            "\($0)".contains("openssl rand -base64 32")
        }
        #expect(!FileManager.default.fileExists(atPath: Self.file(site).path))
    }

    // MARK: Rotation

    /// A store in `site` with both fixture installations, under the data folder's key file.
    static func twoInstallations(_ site: TestSite) async throws -> (file: URL, oldKey: Data, oldCiphertext: String) {
        let file = Self.file(site)
        let store = try SQLiteStore(file: file)
        try await store.upsert(Fixture.installation())
        try await store.upsert(Fixture.installation(Fixture.otherId, secret: Fixture.otherSecret))
        try await store.close()
        let oldKey = try #require(
            FileManager.default.contents(atPath: site.data.appendingPathComponent("secret.key").path))
        return (file, oldKey, try #require(try Self.storedSecret(file, Fixture.oauthId)))
    }

    /// Both installations read back with their secrets through `secrets`.
    static func readsBack(_ file: URL, _ secrets: SecretBox) async throws -> Bool {
        let store = try SQLiteStore(file: file, secrets: secrets)
        let secretsRead = try await store.installations().map(\.oauthSecret).sorted()
        try await store.close()
        return secretsRead == [Fixture.secret, Fixture.otherSecret].sorted()
    }

    @Test("rotate-key with the key file: a new key file, every secret re-encrypted, the old key refused")
    func rotateKeyFile() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let (file, oldKey, oldCiphertext) = try await Self.twoInstallations(site)
        let keyFile = site.data.appendingPathComponent("secret.key")

        let outcome = try await KeyRotation.rotate(
            databaseFile: file, dataDirectory: site.data, currentKey: nil, newKey: nil)
        #expect(outcome == KeyRotation.Outcome(reencrypted: 2, keyFileReplaced: true))
        let newKey = try #require(FileManager.default.contents(atPath: keyFile.path))
        #expect(newKey.count == 32 && newKey != oldKey)
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(!FileManager.default.fileExists(atPath: site.data.appendingPathComponent("secret.key.new").path))
        #expect(try await Self.readsBack(file, SecretBox(keyBytes: newKey)))
        #expect(throws: SecretKeyError.wrongKey) {
            _ = try SQLiteStore(file: file, secrets: SecretBox(keyBytes: oldKey))
        }
        // Neither the old ciphertext nor a secret in clear is left in the file or its WAL.
        let raw = Self.rawBytes(file)
        #expect(raw.range(of: Data(oldCiphertext.utf8)) == nil)
        #expect(raw.range(of: Data(Fixture.secret.utf8)) == nil)
        // The server starts on the rotated folder with no key given.
        let configuration = site.configuration()
        _ = try HipKitServer(configuration: configuration).makeApplication()
    }

    @Test(
        "an interrupted rotation loses nothing: run again, it finishes with the key that was written first",
        arguments: ["before the store changed", "after the store changed"])
    func rotateKeyInterrupted(_ moment: String) async throws {
        let site = try TestSite()
        defer { site.remove() }
        let (file, oldKey, _) = try await Self.twoInstallations(site)
        // What a rotation killed at that moment leaves: the next key on disk, and the store under
        // the old key or already under the new one.
        let pendingKey = Data((0..<32).map { UInt8($0) })
        _ = try SecretBox.pendingKeyFile(in: site.data, fresh: pendingKey)
        if moment == "after the store changed" {
            let store = try SQLiteStore(file: file, secrets: SecretBox(keyBytes: oldKey))
            #expect(try await store.rotateKey(to: SecretBox(keyBytes: pendingKey)) == 2)
            try await store.close()
            // The server refuses the folder as it is, and says how to finish.
            #expect {
                _ = try HipKitServer(configuration: site.configuration()).makeApplication()
            } throws: { error in
                "\((error as? HipKitError)?.hint ?? "")".contains("rotate-key")
            }
        }
        let outcome = try await KeyRotation.rotate(
            databaseFile: file, dataDirectory: site.data, currentKey: nil, newKey: nil)
        #expect(outcome.reencrypted == (moment == "after the store changed" ? 0 : 2))
        #expect(FileManager.default.contents(atPath: site.data.appendingPathComponent("secret.key").path) == pendingKey)
        #expect(try await Self.readsBack(file, SecretBox(keyBytes: pendingKey)))
        _ = try HipKitServer(configuration: site.configuration()).makeApplication()
    }

    @Test("rotate-key with HIPKIT_SECRET_KEY needs HIPKIT_NEW_SECRET_KEY, and writes no key file")
    func rotateEnvironmentKey() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let file = Self.file(site)
        let oldKey = Data(repeating: 3, count: 32).base64EncodedString()
        let newKey = String(repeating: "5a", count: 32)
        let store = try SQLiteStore(file: file, secrets: SecretBox(keyBytes: SecretBox.parseKey(oldKey)))
        try await store.upsert(Fixture.installation())
        try await store.upsert(Fixture.installation(Fixture.otherId, secret: Fixture.otherSecret))
        try await store.close()

        await #expect {
            _ = try await KeyRotation.rotate(
                databaseFile: file, dataDirectory: site.data, currentKey: oldKey, newKey: nil)
        } throws: { "\($0)".contains("HIPKIT_NEW_SECRET_KEY") }
        await #expect {
            _ = try await KeyRotation.rotate(
                databaseFile: file, dataDirectory: site.data, currentKey: oldKey, newKey: "short")
        } throws: { "\($0)".contains("HIPKIT_NEW_SECRET_KEY is not a 256-bit key") }
        #expect(
            try await Self.readsBack(file, SecretBox(keyBytes: SecretBox.parseKey(oldKey))), "refusals changed nothing")

        let outcome = try await KeyRotation.rotate(
            databaseFile: file, dataDirectory: site.data, currentKey: oldKey, newKey: newKey)
        #expect(outcome == KeyRotation.Outcome(reencrypted: 2, keyFileReplaced: false))
        #expect(try await Self.readsBack(file, SecretBox(keyBytes: SecretBox.parseKey(newKey))))
        #expect(throws: SecretKeyError.wrongKey) {
            _ = try SQLiteStore(file: file, secrets: SecretBox(keyBytes: SecretBox.parseKey(oldKey)))
        }
        #expect(!FileManager.default.fileExists(atPath: site.data.appendingPathComponent("secret.key").path))
        #expect(!FileManager.default.fileExists(atPath: site.data.appendingPathComponent("secret.key.new").path))
    }

    @Test("hipkit rotate-key, the command: says what it did, and the server then runs on the new key")
    func rotateKeyCommand() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let (file, oldKey, _) = try await Self.twoInstallations(site)
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "HIPKIT_SECRET_KEY")
        environment.removeValue(forKey: "HIPKIT_NEW_SECRET_KEY")
        let output = site.root.appendingPathComponent("rotate-key-output")
        // Waited for on a thread of its own, not on the concurrency pool.
        let process = try await Blocking.run {
            let process = try ChildProcess(
                ServeCommandTests.executable, ["rotate-key", site.dist.path, "--data", site.data.path],
                environment: environment, standardOutput: .file(output), standardError: .standardOutput)
            process.waitUntilExit()
            return process
        }
        let text = try String(contentsOf: output, encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("2 installation secrets re-encrypted"), "\(text)")
        let newKey = try #require(
            FileManager.default.contents(atPath: site.data.appendingPathComponent("secret.key").path))
        #expect(newKey != oldKey)
        #expect(try await Self.readsBack(file, SecretBox(keyBytes: newKey)))
    }

    @Test("plaintext secrets of an older store are read, and encrypted when it is opened")
    func legacyPlaintextMigrated() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let file = Self.file(site)
        try FileManager.default.createDirectory(at: site.data, withIntermediateDirectories: true)
        // The store as the version before encryption left it: schema v1, secrets in clear.
        let legacy = try DatabaseQueue(path: file.path)
        try SQLiteStore.migrator(secrets: SecretBox.random()).migrate(legacy, upTo: "v1")
        try await legacy.write { db in
            for (id, secret, room) in [
                (Fixture.oauthId, Fixture.secret, 42 as Int?), (Fixture.otherId, Fixture.otherSecret, nil),
            ] {
                try db.execute(
                    sql: """
                        INSERT INTO installation (oauth_id, oauth_secret, capabilities_url, group_id, room_id, installed_at, updated_at)
                        VALUES (?, ?, 'https://api.hipchat.com/v2/capabilities', 9001, ?, 0, 0)
                        """, arguments: [id, secret, room])
            }
        }
        try legacy.close()
        #expect(
            Self.rawBytes(file).range(of: Data(Fixture.secret.utf8)) != nil, "the legacy file holds the secret in clear"
        )

        let store = try SQLiteStore(file: file)
        #expect(try await store.installation(oauthId: Fixture.oauthId)?.oauthSecret == Fixture.secret)
        #expect(try await store.installation(oauthId: Fixture.otherId)?.oauthSecret == Fixture.otherSecret)
        #expect(try await store.installation(oauthId: Fixture.oauthId)?.roomId == 42)
        try await store.close()
        #expect(try Self.storedSecret(file, Fixture.oauthId)?.hasPrefix("v1:") == true)
        #expect(try Self.storedSecret(file, Fixture.otherId)?.hasPrefix("v1:") == true)
        // Not even in the pages SQLite freed.
        #expect(Self.rawBytes(file).range(of: Data(Fixture.secret.utf8)) == nil)
        #expect(Self.rawBytes(file).range(of: Data(Fixture.otherSecret.utf8)) == nil)

        // Once: a second open does not encrypt again.
        let sealed = try Self.storedSecret(file, Fixture.oauthId)
        let again = try SQLiteStore(file: file)
        #expect(try await again.installation(oauthId: Fixture.oauthId)?.oauthSecret == Fixture.secret)
        try await again.close()
        #expect(try Self.storedSecret(file, Fixture.oauthId) == sealed)
    }

    @Test(
        "a stored secret that was altered, moved to another row or written in clear is refused, not used",
        arguments: [
            "flipped-byte", "moved-row", "truncated", "plaintext", "bad-base64",
        ])
    func tamperedRefused(_ kind: String) async throws {
        let site = try TestSite()
        defer { site.remove() }
        let file = Self.file(site)
        let store = try SQLiteStore(file: file)
        try await store.upsert(Fixture.installation())
        try await store.upsert(Fixture.installation(Fixture.otherId, secret: Fixture.otherSecret))
        try await store.close()

        let sealed = try #require(try Self.storedSecret(file, Fixture.oauthId))
        let tampered: String
        switch kind {
        case "flipped-byte":
            var bytes = Data(base64Encoded: String(sealed.dropFirst(3)))!
            bytes[20] ^= 0x01
            tampered = "v1:" + bytes.base64EncodedString()
        case "moved-row": tampered = try #require(try Self.storedSecret(file, Fixture.otherId))
        case "truncated": tampered = String(sealed.prefix(30))
        case "plaintext": tampered = Fixture.otherSecret
        default: tampered = "v1:!!not base64!!"
        }
        try Self.write(
            file, "UPDATE installation SET oauth_secret = ? WHERE oauth_id = ?", [tampered, Fixture.oauthId])

        let reopened = try SQLiteStore(file: file)
        await #expect {
            _ = try await reopened.installation(oauthId: Fixture.oauthId)
        } throws: { error in
            let expected: SecretKeyError =
                kind == "plaintext" ? .notSealed(Fixture.oauthId) : .cannotOpen(Fixture.oauthId)
            return (error as? SecretKeyError) == expected && !"\(error)".contains(Fixture.otherSecret)
        }
        // The other installation is untouched and still works.
        #expect(try await reopened.installation(oauthId: Fixture.otherId)?.oauthSecret == Fixture.otherSecret)
        try await reopened.close()

        // A JWT naming the tampered installation opens nothing, whoever signed it.
        let (server, _) = try site.server()
        try await server.makeApplication().test(.router) { client in
            for secret in [Fixture.secret, Fixture.otherSecret] {
                let token = try await Tokens.mint(secret: secret)
                let response = try await client.execute(uri: "/incidents.html?signed_request=\(token)", method: .get)
                #expect(response.status == .internalServerError, "\(kind)")
                #expect(!response.text.contains("Open incidents"))
            }
            let other = try await Tokens.mint(iss: Fixture.otherId, secret: Fixture.otherSecret)
            #expect(
                try await client.execute(uri: "/incidents.html?signed_request=\(other)", method: .get).status == .ok)
        }
    }

    @Test("install, reinstall, update, glance push and uninstall log no secret, token or ciphertext")
    func secretsNeverLogged() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            let site = try TestSite()
            defer { site.remove() }
            let logs = LogCapture()
            let configuration = site.configuration(
                adminToken: GlanceTests.adminToken,
                trustedHosts: [TrustedHost(host: "127.0.0.1", port: hipchat.port)])
            let json: HTTPFields = [.contentType: "application/json"]
            let body = InstallTests.body(hipchat, roomId: 42)
            try await withServer(site, configuration, logs: logs) { client, _ in
                #expect(
                    try await client.execute(uri: "/installed", method: .post, headers: json, body: body).status == .ok)
                #expect(
                    try await client.execute(uri: "/installed", method: .post, headers: json, body: body).status == .ok)
                let update = jsonBody(
                    #"{"oauthId": "\#(Fixture.oauthId)", "oauthSecret": "\#(Fixture.secret)", "capabilitiesUrl": "\#(hipchat.capabilitiesUrl)", "groupId": 9001}"#
                )
                #expect(
                    try await client.execute(uri: "/updated", method: .post, headers: json, body: update).status == .ok)
                let forged = InstallTests.body(hipchat, secret: "F0rgedSecretF0rgedSecretF0rgedSecretF0rg")
                #expect(
                    try await client.execute(uri: "/installed", method: .post, headers: json, body: forged).status
                        == .forbidden)
                _ = try await client.execute(
                    uri: "/admin/glances/incidents-glance?room=42", method: .post, headers: GlanceTests.bearer,
                    body: jsonBody(#"{"label": "x"}"#))
                #expect(await hipchat.wait { $0.pushes.count == 1 })
                let deadline = Date().addingTimeInterval(60)
                while Date() < deadline, !logs.all.contains(where: { $0.message == "glance pushed" }) {
                    try await Task.sleep(for: .milliseconds(20))
                }
                hipchat.revoke(Fixture.oauthId)
                #expect(
                    try await client.execute(uri: "/installed/\(Fixture.oauthId)", method: .delete).status
                        == .noContent)
            }
            let sealed = try Self.storedSecret(Self.file(site), Fixture.oauthId)
            #expect(sealed == nil, "uninstalled")
            let accessTokens = hipchat.pushes.compactMap {
                $0.authorization?.replacingOccurrences(of: "Bearer ", with: "")
            }
            #expect(!accessTokens.isEmpty)
            let basic = Data("\(Fixture.oauthId):\(Fixture.secret)".utf8).base64EncodedString()
            let lines = logs.all
            for message in ["installed", "reinstalled", "installation updated", "uninstalled", "glance pushed"] {
                #expect(lines.contains { $0.message == message }, "\(message) was logged")
            }
            for line in lines {
                for secret in [Fixture.secret, "F0rgedSecretF0rgedSecretF0rgedSecretF0rg", basic, "v1:"] + accessTokens
                {
                    #expect(!line.text.contains(secret), "\(line.text)")
                }
            }
        }
    }

    @Test("hipkit serve warns at start when the data folder or the database is open to group or others")
    func permissionWarning() async throws {
        let site = try TestSite()
        defer { site.remove() }
        // First start: created private, no warning.
        let quiet = LogCapture()
        try await HipKitServer(configuration: site.configuration(), logger: quiet.logger).makeApplication().test(
            .router
        ) { _ in }
        #expect(!quiet.all.contains { $0.level == .warning })

        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: site.data.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o664], ofItemAtPath: Self.file(site).path)
        let logs = LogCapture()
        try await HipKitServer(configuration: site.configuration(), logger: logs.logger).makeApplication().test(.router)
        { _ in }
        let warnings = logs.all.filter { $0.level == .warning }.map(\.message)
        #expect(
            warnings.contains {
                $0.contains(site.data.path + " is open to its group and others") && $0.contains("chmod 700")
            })
        #expect(
            warnings.contains {
                $0.contains("hipkit.sqlite is open to its group and others") && $0.contains("chmod 600")
            })
    }
}
