import ArgumentParser
import Foundation
import HipChatConnect
import HipKit
import HipKitServer
import Logging

struct CopyStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy-store",
        abstract: "Copy installations, glance data and settings from one store to another.",
        discussion: """
            SOURCE and TARGET are each a data folder (its hipkit.sqlite) or a PostgreSQL database \
            (postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=require]). TARGET must be empty:
            otherwise nothing changes and the command fails. Stop the servers on SOURCE first, so \
            that nothing is written there during the copy. Glance updates and notifications not yet \
            delivered to HipChat are not copied: a SOURCE still holding some is refused unless \
            --drop-pending is given.

            A data folder with a secret.key is read with it; PostgreSQL, and a data folder without \
            one, with HIPKIT_SECRET_KEY. Moving from one server to several is then:

              export HIPKIT_SECRET_KEY=$(openssl rand -base64 32)
              hipkit copy-store my-addon/.hipkit postgres://hipkit@db.internal/hipkit
              hipkit serve my-addon/dist --database postgres://hipkit@db.internal/hipkit
            """)

    @Argument(help: ArgumentHelp("Where the installations are now.", valueName: "source"))
    var source: String

    @Argument(help: ArgumentHelp("An empty store to fill.", valueName: "target"))
    var target: String

    @Flag(
        help:
            "Copy even when SOURCE still holds glance updates or notifications not yet delivered to HipChat, which are not copied."
    )
    var dropPending = false

    func validate() throws {
        _ = try addresses()
    }

    /// SOURCE and TARGET read, in `validate()` (so a bad one is reported with this command's
    /// usage line) and again in `run()`.
    private func addresses() throws -> (from: StoreCopy.Address, to: StoreCopy.Address) {
        do {
            return (try StoreCopy.Address(source), try StoreCopy.Address(target))
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() async throws {
        let (from, to) = try addresses()
        let logger = Logger(label: "hipkit", factory: { _ in SwiftLogNoOpLogHandler() })
        do {
            let outcome = try await StoreCopy.copy(
                from: from, to: to, secretKey: ProcessInfo.processInfo.environment[SecretBox.environmentVariable],
                droppingPending: dropPending, logger: logger)
            Output.say(
                "copied \(count(outcome.installations, "installation")), \(count(outcome.glanceData, "glance value")) "
                    + "and \(count(outcome.settings, "settings record")) from \(from) to \(to)")
        } catch let error as HipKitError {
            throw Output.fail(error)
        } catch {
            throw Output.fail(HipKitError("cannot copy \(from) to \(to): \(error)"))
        }
    }

    private func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}
