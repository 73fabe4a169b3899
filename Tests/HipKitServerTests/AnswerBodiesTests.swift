import Foundation
import HipChatConnect
import NIOCore
import Testing

@testable import HipKitServer

/// A glance's answer text is kept while its data stays the same, and made again for any data
/// whose text could differ.
@Suite struct AnswerBodiesTests {
    static let variants: [JSONNode] = [
        .object(["label": .string("café"), "n": .integer(1)]),
        .object(["label": .string("cafe\u{301}"), "n": .integer(1)]),  // == the first, other bytes
        JSONNode(.object([JSONMember("n", .integer(1)), JSONMember("label", .string("café"))])),
        .object(["label": .string("café"), "n": .double(1)]),
        .object(["label": .string("café"), "n": .double(-0.0)]),
        .object(["label": .string("café"), "n": .double(0.0)]),
        .object(["label": .string("café"), "n": .array([.null, .bool(true)])]),
        .object(["label": .string("café"), "n": .array([.null, .bool(false)])]),
        .object(["label": .string("café"), "m": .integer(1)]),
        .string("café"),
    ]

    @Test func theAnswerIsAlwaysTheTextOfTheDataServed() {
        let bodies = AnswerBodies()
        let key = AnswerBodies.Key(glance: "g", scope: GlanceDataScope(installation: nil, room: 7))
        for data in Self.variants + Self.variants.reversed() + Self.variants {
            #expect(bodies.body(of: data, for: key) == JSONResponse.body(data), "\(data.jsonString)")
            #expect(bodies.body(of: data, for: key) == JSONResponse.body(data), "\(data.jsonString)")
        }
    }

    @Test func sameTextOnlyForTheSameTree() {
        for (i, a) in Self.variants.enumerated() {
            for (j, b) in Self.variants.enumerated() {
                #expect(a.isSameText(as: b) == (i == j), "\(a.jsonString) / \(b.jsonString)")
            }
        }
    }

    @Test func glancesAndRoomsAreKeptApart() {
        let bodies = AnswerBodies()
        let one = JSONNode.object(["label": .string("one")])
        let two = JSONNode.object(["label": .string("two")])
        #expect(bodies.body(of: one, for: .init(glance: "g", scope: nil)) == JSONResponse.body(one))
        #expect(
            bodies.body(of: two, for: .init(glance: "g", scope: GlanceDataScope(installation: nil, room: 1)))
                == JSONResponse.body(two))
        #expect(bodies.body(of: two, for: .init(glance: "h", scope: nil)) == JSONResponse.body(two))
        #expect(bodies.body(of: one, for: .init(glance: "g", scope: nil)) == JSONResponse.body(one))
    }
}
