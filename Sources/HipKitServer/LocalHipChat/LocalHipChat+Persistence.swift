import Foundation
import HipChatConnect
import Logging

/// The local HipChat's own store: the rooms and their messages, who you are playing, the glance
/// data and the installations with their credentials, in one JSON file written after each
/// change, so that restarting `hipkit dev` keeps the add-on installed and the rooms as they
/// were. It is not the add-on's store (`hipkit serve` has its own): it is HipChat's side.
extension LocalHipChat {
    struct SavedState: Codable {
        static let currentVersion = 2

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
        var rooms: [EmulatedRoom]
        var currentRoomId: Int
        var nextMessage: Int
        var roomGlances: [Int: [String: JSONNode]]
        var groupGlances: [String: JSONNode]
        var credentials: [String: String]
        var installations: [Installation]
    }

    /// The saved installations, read back. One whose descriptor can no longer be read is dropped
    /// with a warning, and so is one whose room is gone.
    static func installations(_ saved: SavedState, logger: Logger) -> [Installed] {
        saved.installations.compactMap { kept in
            guard kept.roomId.map({ id in saved.rooms.contains { $0.id == id } }) ?? true,
                let addon = try? EmulatedAddon(descriptor: kept.descriptor, url: kept.descriptorURL)
            else {
                logger.warning(
                    "a saved installation cannot be read back; it is dropped", metadata: ["oauthId": "\(kept.oauthId)"])
                return nil
            }
            return Installed(
                addon: addon, oauthId: kept.oauthId, oauthSecret: kept.oauthSecret, roomId: kept.roomId,
                installedAt: kept.installedAt)
        }
    }

    /// Something changed: the page hears of it at once, and the state file is rewritten within a
    /// tick, once for a burst of changes (a message and the webhook reply it brings, a glance
    /// query per glance). A change of the installations (`saveNow`) is written at once: the
    /// credentials must not be lost to a crash while the add-on already holds them. Shutdown
    /// writes what is still due (``flushState()``).
    func changed(saveNow: Bool = false) {
        log.changed()
        guard configuration.stateFile != nil else { return }
        if saveNow {
            saveScheduled = false
            persist()
            return
        }
        guard !saveScheduled else { return }
        saveScheduled = true
        Task {
            try? await Task.sleep(for: Self.saveTick)
            await self.flushState()
        }
    }

    /// How long changes gather before the state file is written.
    static let saveTick = Duration.milliseconds(100)

    /// Writes the state file now if a save is due.
    func flushState() {
        guard saveScheduled else { return }
        saveScheduled = false
        persist()
    }

    /// Writes the state to ``Configuration/stateFile``: a temporary file renamed over the old
    /// one, readable by its owner only (it holds the installation's secret).
    func persist() {
        guard let file = configuration.stateFile else { return }
        let state = SavedState(
            role: role, rooms: rooms, currentRoomId: currentRoomId, nextMessage: nextMessage,
            roomGlances: roomGlances, groupGlances: groupGlances, credentials: credentials,
            installations: installations.map {
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
            stateWrites += 1
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
        struct Version: Decodable { var version: Int }
        do {
            let version = try decoder.decode(Version.self, from: data).version
            guard version == SavedState.currentVersion else {
                logger.warning(
                    "the local HipChat's state was saved by \(version > SavedState.currentVersion ? "a newer" : "an older") hipkit; starting afresh",
                    metadata: ["file": "\(file.path)"])
                return nil
            }
            return try decoder.decode(SavedState.self, from: data)
        } catch {
            logger.warning(
                "the local HipChat's state cannot be read; starting afresh",
                metadata: ["file": "\(file.path)", "error": "\(error)"])
            return nil
        }
    }
}
