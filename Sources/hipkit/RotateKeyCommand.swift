import ArgumentParser
import Foundation
import HipChatConnect
import HipKit
import HipKitServer
import Logging

struct RotateKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: "Re-encrypt the stored installation secrets under a new key.",
        discussion: """
            Stop `hipkit serve` first: a running server keeps the old key.

            With the key in DATA/secret.key (the default), a new random key replaces it. The new key \
            is written to DATA/secret.key.new before anything changes and renamed over secret.key at \
            the end, so an interrupted rotation loses nothing: run the command again to finish it.

            With the key in HIPKIT_SECRET_KEY, give the new one in HIPKIT_NEW_SECRET_KEY (make one \
            with `openssl rand -base64 32`); once the command succeeds, put the new key in \
            HIPKIT_SECRET_KEY wherever the server reads it.

            With --database (or HIPKIT_DATABASE_URL), the PostgreSQL store several servers share is \
            re-encrypted from HIPKIT_SECRET_KEY to HIPKIT_NEW_SECRET_KEY in one transaction. Stop \
            every instance first, or expect them to refuse requests until they are restarted with \
            the new key.

            Afterwards, replace the backups of the old key and of the database together.

            Examples:
              hipkit rotate-key
              HIPKIT_SECRET_KEY=… HIPKIT_NEW_SECRET_KEY=$(openssl rand -base64 32) \\
                  hipkit rotate-key my-addon/dist
            """)

    @Argument(help: "The built site the server serves; its data folder is .hipkit/ beside it.")
    var dist: String = "dist"

    @Option(name: .customLong("data"), help: "The data folder, when the server runs with --data.")
    var dataDirectory: String?

    @Option(help: "The PostgreSQL database the servers share (default: $HIPKIT_DATABASE_URL).")
    var database: String?

    func validate() throws {
        _ = try DatabaseOption.url(database)
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        if let url = try DatabaseOption.url(database) {
            do {
                let outcome = try await KeyRotation.rotate(
                    database: url, currentKey: environment[SecretBox.environmentVariable],
                    newKey: environment[SecretBox.newEnvironmentVariable],
                    logger: Logger(label: "hipkit", factory: { _ in SwiftLogNoOpLogHandler() }))
                Output.say(
                    "\(outcome.reencrypted) installation secret\(outcome.reencrypted == 1 ? "" : "s") re-encrypted in \(url); "
                        + "now set \(SecretBox.environmentVariable) to the value of \(SecretBox.newEnvironmentVariable) "
                        + "on every instance, and restart them")
                return
            } catch {
                throw Output.fail(HipKitError("cannot rotate the key of \(url): \(error)"))
            }
        }
        let configuration = ServerConfiguration(
            distDirectory: URL(fileURLWithPath: dist),
            dataDirectory: dataDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) })
        do {
            let outcome = try await KeyRotation.rotate(
                databaseFile: configuration.databaseFile, dataDirectory: configuration.dataDirectory,
                currentKey: environment[SecretBox.environmentVariable],
                newKey: environment[SecretBox.newEnvironmentVariable])
            let shown = ProjectLoader.displayPath(configuration.dataDirectory)
            let secrets =
                "\(outcome.reencrypted) installation secret\(outcome.reencrypted == 1 ? "" : "s") re-encrypted"
            if outcome.keyFileReplaced {
                Output.say("\(secrets); the new key is \(shown)/\(SecretBox.keyFileName)")
            } else {
                Output.say(
                    "\(secrets); now set \(SecretBox.environmentVariable) to the value of \(SecretBox.newEnvironmentVariable) "
                        + "wherever the server reads it (the old key no longer opens the store)")
                // A key file left from before the key moved to the variable opens nothing now.
                let keyFile = configuration.dataDirectory.appendingPathComponent(SecretBox.keyFileName)
                if FileManager.default.fileExists(atPath: keyFile.path) {
                    Output.say(
                        "\(shown)/\(SecretBox.keyFileName) is still there, a key the store no longer opens with: "
                            + "remove it (keep a copy with the backups made before, which need it)")
                }
            }
        } catch let error as HipKitError {
            throw Output.fail(error)
        } catch let error as SecretKeyError {
            throw Output.fail(HipKitError("cannot rotate the key: \(error)"))
        } catch {
            throw Output.fail(HipKitError("cannot rotate the key of \(configuration.databaseFile.path): \(error)"))
        }
    }
}
