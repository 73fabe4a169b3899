import Foundation
import HipChatConnect

/// Everything a store holds that outlives a push: installations (secrets in clear, in memory
/// only), glance data and settings. What `hipkit copy-store` moves from one store to another.
///
/// Pushes still in the outbox are not part of it: they belong to the server that queued them,
/// which delivers them, retrying across restarts; `copy-store` refuses a store that still holds
/// some (see ``StoreCopy/copy(from:to:secretKey:droppingPending:logger:)``).
public struct StoreContents: Sendable, Equatable {
    public struct GlanceRecord: Sendable, Equatable {
        public var key: String
        public var scope: GlanceDataScope
        public var data: JSONNode
    }

    public struct SettingsRecord: Sendable, Equatable {
        public var oauthId: String
        public var room: Int?
        public var values: [String: JSONNode]
    }

    public var installations: [Installation] = []
    public var glanceData: [GlanceRecord] = []
    public var settings: [SettingsRecord] = []

    public init() {}

    public var isEmpty: Bool { installations.isEmpty && glanceData.isEmpty && settings.isEmpty }
}

/// A store that already holds something was asked to take a copy.
public struct StoreNotEmptyError: Error, CustomStringConvertible {
    public var description: String {
        "the target store is not empty; copy-store only fills a new store, and changed nothing"
    }
}
