import Foundation
import HipChatConnect
import Logging

/// The local HipChat's own store: the room, who you are playing, the messages, the glance data
/// and the installation with its credentials, in one JSON file written after each change, so
/// that restarting `hipkit dev` keeps the add-on installed and the room as it was. It is not
/// the add-on's store (`hipkit serve` has its own): it is HipChat's side.
extension LocalHipChat {
    struct SavedState: Codable {
        static let currentVersion = 1

        struct Installation: Codable {
            var descriptor: JSONNode
            var descriptorURL: URL
            var oauthId: String
            var oauthSecret: String
            var roomId: Int?
            var installedAt: Date
        }

        var version = currentVersion
        var role: EmulatedRole
        var room: EmulatedRoom
        var messages: [RoomMessage]
        var nextMessage: Int
        var glanceData: [String: JSONNode]
        var credentials: [String: String]
        var installation: Installation?
    }

    /// The room changed: the page hears of it, and the state is saved.
    func changed() {
        log.changed()
        persist()
    }

    /// Writes the state to ``Configuration/stateFile``: a temporary file renamed over the old
    /// one, readable by its owner only (it holds the installation's secret).
    func persist() {
        guard let file = configuration.stateFile else { return }
        let state = SavedState(
            role: role, room: room, messages: messages, nextMessage: nextMessage, glanceData: glanceData,
            credentials: credentials,
            installation: installed.map {
                .init(
                    descriptor: $0.addon.descriptor.withoutLocations, descriptorURL: $0.addon.descriptorURL,
                    oauthId: $0.oauthId, oauthSecret: $0.oauthSecret, roomId: $0.roomId, installedAt: $0.installedAt)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        do {
            let data = try encoder.encode(state)
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            let temporary = file.deletingLastPathComponent().appendingPathComponent(
                "." + file.lastPathComponent + ".\(UUID().uuidString.prefix(8))")
            guard
                FileManager.default.createFile(
                    atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600])
            else { throw CocoaError(.fileWriteUnknown) }
            if rename(temporary.path, file.path) != 0 {
                try? FileManager.default.removeItem(at: temporary)
                throw CocoaError(.fileWriteUnknown)
            }
        } catch {
            logger.warning(
                "the local HipChat's state cannot be saved", metadata: ["file": "\(file.path)", "error": "\(error)"])
        }
    }

    /// Reads the state back at start. A file that cannot be read is reported and left aside:
    /// the room starts afresh, and nothing crashes.
    static func savedState(from file: URL, logger: Logger) -> SavedState? {
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            let state = try decoder.decode(SavedState.self, from: data)
            guard state.version <= SavedState.currentVersion else {
                logger.warning(
                    "the local HipChat's state was saved by a newer hipkit; starting afresh",
                    metadata: ["file": "\(file.path)"])
                return nil
            }
            return state
        } catch {
            logger.warning(
                "the local HipChat's state cannot be read; starting afresh",
                metadata: ["file": "\(file.path)", "error": "\(error)"])
            return nil
        }
    }
}
