import Foundation
import HipChatConnect
import Testing

@testable import HipKitServer

/// What every ``InstallationStore`` promises, checked on SQLite and on PostgreSQL alike.
@Suite("The store's contract, on SQLite and PostgreSQL")
struct StoreContractTests {
    private static func pushable(_ oauthId: String = Fixture.oauthId, roomId: Int? = nil) -> Installation {
        Fixture.installation(
            oauthId, roomId: roomId, apiUrl: "https://api.hipchat.com/v2/",
            tokenUrl: "https://api.hipchat.com/v2/oauth/token")
    }

    private static func location(_ kind: StoreKind, _ body: (StoreLocation) async throws -> Void) async throws {
        let location = try await StoreLocation.make(kind)
        defer { location.remove() }
        try await body(location)
    }

    @Test(
        "installations: added, replaced by oauthId, listed, read back after reopening, removed",
        arguments: StoreKind.allCases)
    func installations(_ kind: StoreKind) async throws {
        try await Self.location(kind) { location in
            try await location.with { store throws in
                try await store.upsert(Fixture.installation(roomId: 42))
                try await store.upsert(Fixture.installation(Fixture.otherId, secret: Fixture.otherSecret))
                var replaced = Fixture.installation(roomId: 42, apiUrl: "https://api.hipchat.com/v2/")
                replaced.oauthSecret = Fixture.otherSecret
                try await store.upsert(replaced)
                #expect(try await store.installations().count == 2)
            }
            try await location.with { store throws in
                let found = try #require(try await store.installation(oauthId: Fixture.oauthId))
                #expect(found.oauthSecret == Fixture.otherSecret)
                #expect(found.roomId == 42 && found.groupId == 9001 && found.apiUrl == "https://api.hipchat.com/v2/")
                #expect(try await store.installation(oauthId: "nobody") == nil)
                #expect(try await store.deleteInstallation(oauthId: Fixture.oauthId))
                #expect(try await !store.deleteInstallation(oauthId: Fixture.oauthId))
                #expect(try await store.installation(oauthId: Fixture.oauthId) == nil)
                #expect(try await store.installations().map(\.oauthId) == [Fixture.otherId])
            }
        }
    }

    @Test(
        "glance data and settings per room; an uninstall takes its settings and its room's data",
        arguments: StoreKind.allCases)
    func dataAndSettings(_ kind: StoreKind) async throws {
        try await Self.location(kind) { location in
            try await location.with { store throws in
                try await store.upsert(Fixture.installation(roomId: 42))
                try await store.putGlanceData(.object(["label": "all"]), key: "g", room: nil)
                try await store.putGlanceData(.object(["label": "one"]), key: "g", room: 42)
                try await store.putGlanceData(.object(["label": "two"]), key: "g", room: 42)
                try await store.putSettings(["a": .string("x")], oauthId: Fixture.oauthId, room: nil)
                try await store.putSettings(["a": .string("y")], oauthId: Fixture.oauthId, room: 42)
                try await store.putSettings(["a": .string("z")], oauthId: Fixture.oauthId, room: 42)
            }
            try await location.with { store throws in
                #expect(try await store.glanceData(key: "g", room: nil)?["label"]?.stringValue == "all")
                #expect(try await store.glanceData(key: "g", room: 42)?["label"]?.stringValue == "two")
                #expect(try await store.glanceData(key: "g", room: 7) == nil)
                #expect(try await store.settings(oauthId: Fixture.oauthId, room: nil)?["a"]?.stringValue == "x")
                #expect(try await store.settings(oauthId: Fixture.oauthId, room: 42)?["a"]?.stringValue == "z")
                #expect(try await store.deleteInstallation(oauthId: Fixture.oauthId))
                #expect(try await store.settings(oauthId: Fixture.oauthId, room: 42) == nil)
                #expect(try await store.glanceData(key: "g", room: 42) == nil)
                #expect(try await store.glanceData(key: "g", room: nil)?["label"]?.stringValue == "all")
            }
        }
    }

    @Test("another key is refused at open", arguments: StoreKind.allCases)
    func wrongKey(_ kind: StoreKind) async throws {
        try await Self.location(kind) { location in
            try await location.with { store throws in try await store.upsert(Fixture.installation()) }
            let other = StoreLocation(
                kind: kind, secrets: .random(), folder: location.folder, database: location.database)
            await #expect(throws: (any Error).self) { try await other.with { _ in } }
            try await location.with { store throws in
                #expect(try await store.installation(oauthId: Fixture.oauthId)?.oauthSecret == Fixture.secret)
            }
        }
    }

    @Test(
        "an update queues one push per installation and target, in the same write as the data",
        arguments: StoreKind.allCases)
    func queued(_ kind: StoreKind) async throws {
        try await Self.location(kind) { location in
            try await location.with { store throws in
                try await store.upsert(Self.pushable())
                try await store.upsert(Self.pushable("room-install", roomId: 42))
                try await store.upsert(Fixture.installation("unverified"))
                #expect(try await store.putGlanceData(.object(["label": "a"]), key: "g", room: nil).pushes == 2)
                let claimed = try await store.claimPushes(limit: 10, lease: .seconds(30), now: Date())
                #expect(Set(claimed.map(\.push.target)) == [.group(9001), .room(42)])
                #expect(Set(claimed.map(\.push.oauthId)) == [Fixture.oauthId, "room-install"])
                #expect(claimed.allSatisfy { $0.attempts == 0 && $0.push.data["label"]?.stringValue == "a" })
                // Room data reaches the room through the group's installation and the room's own.
                #expect(try await store.putGlanceData(.object(["label": "b"]), key: "g", room: 42).pushes == 2)
                #expect(try await store.putGlanceData(.object(["label": "c"]), key: "g", room: 7).pushes == 1)
            }
        }
    }

    @Test(
        "queued pushes survive closing the store; a taken one is nobody else's until its lease ends",
        arguments: StoreKind.allCases)
    func durableAndLeased(_ kind: StoreKind) async throws {
        try await Self.location(kind) { location in
            try await location.with { store throws in
                try await store.upsert(Self.pushable())
                try await store.putGlanceData(.object(["label": "a"]), key: "g", room: nil)
            }
            try await location.with { store throws in
                let taken = try await store.claimPushes(limit: 10, lease: .seconds(30), now: Date())
                #expect(taken.count == 1)
                #expect(try await store.claimPushes(limit: 10, lease: .seconds(30), now: Date()).isEmpty)
                let due = try #require(try await store.nextPushDue())
                #expect(due > Date().addingTimeInterval(20))
                // When the lease has run out, another server takes it.
                let later = Date().addingTimeInterval(31)
                let again = try await store.claimPushes(limit: 10, lease: .seconds(30), now: later)
                #expect(again.map(\.id) == taken.map(\.id))
                try await store.finishPush(try #require(again.first))
                #expect(try await store.claimPushes(limit: 10, lease: .seconds(30), now: later).isEmpty)
                #expect(try await store.nextPushDue() == nil)
            }
        }
    }

    @Test(
        "newer data while a push is out waits for it, then goes alone; a retry counts attempts",
        arguments: StoreKind.allCases)
    func newerDataWaits(_ kind: StoreKind) async throws {
        try await Self.location(kind) { location in
            try await location.with { store throws in
                try await store.upsert(Self.pushable())
                try await store.putGlanceData(.object(["label": "old"]), key: "g", room: nil)
                let out = try #require(try await store.claimPushes(limit: 10, lease: .seconds(30), now: Date()).first)
                try await store.putGlanceData(.object(["label": "new"]), key: "g", room: nil)
                // The delivery of "old" still holds the lease: "new" is not sent beside it.
                #expect(try await store.claimPushes(limit: 10, lease: .seconds(30), now: Date()).isEmpty)
                try await store.finishPush(out)
                let next = try #require(try await store.claimPushes(limit: 10, lease: .seconds(30), now: Date()).first)
                #expect(next.id == out.id && next.generation == out.generation + 1)
                #expect(next.push.data["label"]?.stringValue == "new")

                try await store.retryPush(next, at: Date().addingTimeInterval(60))
                #expect(try await store.claimPushes(limit: 10, lease: .seconds(30), now: Date()).isEmpty)
                let retried = try #require(
                    try await store.claimPushes(limit: 10, lease: .seconds(30), now: Date().addingTimeInterval(61))
                        .first)
                #expect(retried.attempts == 1)
                try await store.finishPush(retried)
                #expect(try await store.nextPushDue() == nil)
            }
        }
    }

    @Test("an uninstall drops the installation's queued pushes", arguments: StoreKind.allCases)
    func uninstallDrops(_ kind: StoreKind) async throws {
        try await Self.location(kind) { location in
            try await location.with { store throws in
                try await store.upsert(Self.pushable())
                try await store.upsert(Self.pushable("other"))
                try await store.putGlanceData(.object(["label": "a"]), key: "g", room: nil)
                #expect(try await store.deleteInstallation(oauthId: Fixture.oauthId))
                #expect(
                    try await store.claimPushes(limit: 10, lease: .seconds(30), now: Date()).map(\.push.oauthId) == [
                        "other"
                    ])
            }
        }
    }

    @Test(
        "notifications: one per installation covering the room, never merged, kept across a reopen",
        arguments: StoreKind.allCases)
    func notifications(_ kind: StoreKind) async throws {
        try await Self.location(kind) { location in
            try await location.with { store throws in
                try await store.upsert(Self.pushable("global"))
                try await store.upsert(Self.pushable("room7", roomId: 7))
                try await store.upsert(Self.pushable("room8", roomId: 8))
                try await store.upsert(Fixture.installation("unverified", roomId: 7))
                let first = try await store.queueNotification(.object(["message": "one"]), room: 7)
                #expect(first == QueuedPushes(pushes: 2, unverified: ["unverified"]))
                // A second notification is a second delivery, not a replacement of the first.
                _ = try await store.queueNotification(.object(["message": "two"]), room: 7)
            }
            try await location.with { store throws in
                let claimed = try await store.claimPushes(limit: 10, lease: .seconds(30), now: Date())
                #expect(claimed.count == 4)
                #expect(claimed.allSatisfy { $0.push.kind == .notification && $0.push.target == .room(7) })
                #expect(Set(claimed.map(\.push.oauthId)) == ["global", "room7"])
                #expect(
                    claimed.compactMap { $0.push.data["message"]?.stringValue }.sorted() == [
                        "one", "one", "two", "two",
                    ])
                for push in claimed { try await store.finishPush(push) }
                #expect(try await store.claimPushes(limit: 10, lease: .seconds(30), now: Date()).isEmpty)
            }
        }
    }

    @Test(
        "glance data for one installation: apart from another's, pushed to it alone, never overwritten by data for all",
        arguments: StoreKind.allCases)
    func dataForOneInstallation(_ kind: StoreKind) async throws {
        try await Self.location(kind) { location in
            try await location.with { store throws in
                // Two HipChat Servers with the add-on installed globally, each with a room 5, and a
                // room installation in room 7.
                try await store.upsert(Self.pushable("a"))
                try await store.upsert(Self.pushable("b"))
                try await store.upsert(Self.pushable("r7", roomId: 7))
                func put(_ label: String, room: Int?, _ installation: String?) async throws -> Set<String> {
                    try await store.putGlanceData(
                        .object(["label": .string(label)]), key: "g", room: room, installation: installation)
                    let claimed = try await store.claimPushes(limit: 10, lease: .seconds(30), now: Date())
                    for push in claimed { try await store.finishPush(push) }
                    return Set(
                        claimed.map {
                            "\($0.push.oauthId) \($0.push.target.stored) \($0.push.data["label"]?.stringValue ?? "")"
                        })
                }
                let counted = try await store.putGlanceData(
                    .object(["label": "a5"]), key: "g", room: 5, installation: "a")
                #expect(counted == QueuedPushes(pushes: 1, unverified: []))
                #expect(try await put("a5", room: 5, "a") == ["a room/5 a5"])
                // Data for room 5 of every installation: "a" shows its own there, so only "b" gets it.
                #expect(try await put("all5", room: 5, nil) == ["b room/5 all5"])
                #expect(try await put("b", room: nil, "b") == ["b group/9001 b"])
                #expect(try await put("all", room: nil, nil) == ["a group/9001 all", "r7 room/7 all"])
                // The room's data for its installation replaces the add-on's there, and is not
                // overwritten by the add-on's after.
                #expect(try await put("r7", room: 7, "r7") == ["r7 room/7 r7"])
                #expect(try await put("all2", room: nil, nil) == ["a group/9001 all2"])
                // A room installation's data is for its room.
                #expect(try await put("r7 again", room: nil, "r7") == ["r7 room/7 r7 again"])
                #expect(try await put("b7", room: 7, "b") == ["b room/7 b7"])
                #expect(try await put("all7", room: 7, nil) == ["a room/7 all7"])

                await #expect(throws: GlanceScopeError.notInstalled("nobody")) {
                    try await store.putGlanceData(.object(["label": "x"]), key: "g", room: nil, installation: "nobody")
                }
                await #expect(throws: GlanceScopeError.roomNotCovered(installation: "r7", room: 8, installedIn: 7)) {
                    try await store.putGlanceData(.object(["label": "x"]), key: "g", room: 8, installation: "r7")
                }
                #expect(try await store.glanceData(key: "g", room: 8, installation: "r7") == nil)
                #expect(try await store.glanceData(key: "g", room: nil, installation: "nobody") == nil)
                #expect(try await store.claimPushes(limit: 10, lease: .seconds(30), now: Date()).isEmpty)
            }
            try await location.with { store throws in
                func label(_ room: Int?, _ installation: String?) async throws -> String? {
                    try await store.glanceData(key: "g", room: room, installation: installation)?["label"]?.stringValue
                }
                #expect(try await label(5, "a") == "a5")
                #expect(try await label(5, nil) == "all5")
                #expect(try await label(nil, "b") == "b")
                #expect(try await label(nil, nil) == "all2")
                #expect(try await label(7, "r7") == "r7 again")
                #expect(try await label(nil, "r7") == nil)
                #expect(try await label(5, "b") == nil)
                #expect(try await label(nil, "a") == nil)
                #expect(
                    try await store.contents().glanceData.map {
                        "\($0.scope.installation ?? "-") \($0.scope.room ?? 0)"
                    } == ["- 0", "- 5", "- 7", "a 5", "b 0", "b 7", "r7 7"])
                // What a view sees: the most specific data for its installation and room, read
                // from the store and through a request's reads alike.
                for (installation, room, expected) in [
                    ("a", 5, "a5 a 5"), ("b", 5, "all5 - 5"), ("b", 6, "b b -"), ("a", 6, "all2 - -"),
                    ("b", nil, "b b -"), ("r7", 7, "r7 again r7 7"), ("c", 5, "all5 - 5"), ("a", 7, "all7 - 7"),
                    ("b", 7, "b7 b 7"),
                ] as [(String, Int?, String)] {
                    for shown in [
                        try await store.shownGlanceData(key: "g", installation: installation, room: room),
                        try await store.reads().shownGlanceData(key: "g", installation: installation, room: room),
                    ] {
                        let text = shown.map {
                            "\($0.data["label"]?.stringValue ?? "") \($0.scope.installation ?? "-") \($0.scope.room.map(String.init) ?? "-")"
                        }
                        #expect(text == expected, "\(installation) in \(room.map(String.init) ?? "no room")")
                    }
                }
                #expect(try await store.shownGlanceData(key: "h", installation: "a", room: 5) == nil)
                // An uninstall takes the data posted for it, and only that; a room installation's
                // room keeps the data of every installation while another one covers it.
                #expect(try await store.deleteInstallation(oauthId: "a"))
                #expect(try await label(5, "a") == nil)
                #expect(try await label(5, nil) == "all5")
                #expect(try await store.deleteInstallation(oauthId: "r7"))
                #expect(try await label(7, "r7") == nil)
                #expect(try await label(7, nil) == "all7")
                #expect(try await label(7, "b") == "b7")
                #expect(try await label(nil, "b") == "b")
                // The last installation gone, no room is covered: rooms' data goes, the add-on's stays.
                #expect(try await store.deleteInstallation(oauthId: "b"))
                #expect(try await label(7, nil) == nil)
                #expect(try await label(5, nil) == nil)
                #expect(try await label(nil, "b") == nil)
                #expect(try await label(nil, nil) == "all2")
            }
        }
    }
}
