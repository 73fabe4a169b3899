import Foundation
import HipChatConnect
import Synchronization

/// Decides whether a glance, sidebar panel or action shows, as HipChat's web client did
/// (its `conditions.js`): a list is AND-ed and an empty one shows; `invert` negates;
/// composites `{type: and|or, conditions}` nest, their type case-insensitive and `and` by
/// default; a condition HipChat did not know is false.
struct ConditionEvaluator: Sendable {
    /// What conditions look at.
    struct Context: Sendable {
        var user: EmulatedUser
        var room: EmulatedRoom
        /// The message an action is offered on; nil for glances, panels and input actions.
        var message: RoomMessage?
        /// The glance's loaded data (`glance_matches` reads its `metadata`); nil while not loaded.
        var glanceData: JSONNode?
    }

    var context: Context

    /// `conditions` as the descriptor gives them: a list, one condition, or nothing.
    func evaluate(_ conditions: JSONNode?) -> Bool {
        guard let conditions, !conditions.isNull else { return true }
        if let list = conditions.arrayValue { return list.allSatisfy(evaluateOne) }
        return evaluateOne(conditions)
    }

    private func evaluateOne(_ condition: JSONNode) -> Bool {
        guard condition.dictionaryValue != nil else { return false }
        if let parts = condition["conditions"]?.arrayValue {
            let type = condition["type"]?.stringValue?.lowercased() ?? "and"
            let result = type == "or" ? parts.contains(where: evaluateOne) : parts.allSatisfy(evaluateOne)
            return condition["invert"]?.boolValue == true ? !result : result
        }
        guard let name = condition["condition"]?.stringValue else { return false }
        // A condition this HipChat does not know never holds, as in HipChat.
        let result =
            ConditionName(rawValue: name).map { holds($0, params: condition["params"] ?? .object([])) } ?? false
        return condition["invert"]?.boolValue == true ? !result : result
    }

    private func holds(_ name: ConditionName, params: JSONNode) -> Bool {
        let user = context.user
        switch name {
        case .roomIsPublic: return context.room.isPublic
        case .userIsAdmin: return user.isAdmin
        case .userIsGuest: return user.isGuest
        case .userIsRoomOwner: return context.room.ownerId == user.id
        case .messageMatches: return context.message.map { messageMatches($0, params) } ?? false
        case .messageContainsLink:
            guard let message = context.message else { return false }
            return message.body.range(of: #"https?://\S"#, options: [.regularExpression, .caseInsensitive]) != nil
        case .messageSentByCurrentUser: return context.message?.senderId == user.id
        case .cardMatches:
            guard let card = context.message?.card else { return false }
            if let style = params["style"]?.stringValue, card["style"]?.stringValue != style { return false }
            return Self.metadataMatches(card["metadata"], params["metadata"])
        case .glanceMatches:
            guard let data = context.glanceData else { return false }
            return Self.metadataMatches(data["metadata"], params["metadata"])
        }
    }

    /// Every given parameter must match: `type`, `file_type`, `regex {pattern, flags}`, `sender`.
    private func messageMatches(_ message: RoomMessage, _ params: JSONNode) -> Bool {
        if let type = params["type"]?.stringValue, type != message.kind.rawValue { return false }
        if let fileType = params["file_type"]?.stringValue {
            // The local room has no file messages; only an image link could be one.
            guard fileType == "image",
                message.body.range(of: #"\.(png|jpe?g|gif|webp)\b"#, options: [.regularExpression, .caseInsensitive])
                    != nil
            else { return false }
        }
        if let sender = params["sender"]?.stringValue, sender != message.senderName, sender != message.senderMention {
            return false
        }
        if let regex = params["regex"] {
            guard let pattern = regex["pattern"]?.stringValue ?? regex.stringValue,
                let expression = Self.javaScriptRegex(pattern, flags: regex["flags"]?.stringValue ?? "")
            else { return false }
            let body = message.body
            if expression.firstMatch(in: body, range: NSRange(body.startIndex..., in: body)) == nil { return false }
        }
        return true
    }

    /// A JavaScript regular expression as NSRegularExpression reads it: flags `i`, `m`, `s`
    /// map over; `g`, `u` and `y` change nothing for a test. Nil when it does not compile,
    /// which HipChat treated as no match.
    ///
    /// Each pattern is compiled once: the room is drawn again after every change, with every
    /// message's actions evaluated, and Foundation on Linux leaks memory for each pattern that
    /// fails to compile.
    static func javaScriptRegex(_ pattern: String, flags: String) -> NSRegularExpression? {
        var options: NSRegularExpression.Options = []
        if flags.contains("i") { options.insert(.caseInsensitive) }
        if flags.contains("m") { options.insert(.anchorsMatchLines) }
        if flags.contains("s") { options.insert(.dotMatchesLineSeparators) }
        let key = "\(options.rawValue)/\(pattern)"
        if let known = compiled.withLock({ $0[key] }) { return known.expression }
        let expression = try? NSRegularExpression(pattern: pattern, options: options)
        compiled.withLock { cache in
            if cache.count >= 512 { cache.removeAll() }
            cache[key] = CompiledPattern(expression: expression)
        }
        return expression
    }

    /// A compiled pattern, or the knowledge that it does not compile. NSRegularExpression is
    /// immutable once made, so sharing it between threads is safe.
    private struct CompiledPattern: @unchecked Sendable {
        var expression: NSRegularExpression?
    }

    private static let compiled = Mutex<[String: CompiledPattern]>([:])

    /// `[{attr: "a.b", eq|lt|gt: value}, …]`, all of which must hold against `metadata`.
    static func metadataMatches(_ metadata: JSONNode?, _ rules: JSONNode?) -> Bool {
        guard let rules = rules?.arrayValue else { return true }
        return rules.allSatisfy { rule in
            guard let path = rule["attr"]?.stringValue else { return false }
            var value = metadata
            for component in path.split(separator: ".") { value = value?[String(component)] }
            guard let value, !value.isNull else { return false }
            if let expected = rule["eq"] { return looselyEqual(value, expected) }
            if let bound = rule["lt"] { return compare(value, bound).map { $0 < 0 } ?? false }
            if let bound = rule["gt"] { return compare(value, bound).map { $0 > 0 } ?? false }
            return false
        }
    }

    /// `==` in JavaScript's spirit for the values metadata holds: `3` equals `"3"`.
    private static func looselyEqual(_ a: JSONNode, _ b: JSONNode) -> Bool {
        if a == b { return true }
        if let x = number(a), let y = number(b) { return x == y }
        return a.templateText == b.templateText && a.dictionaryValue == nil && a.arrayValue == nil
    }

    private static func compare(_ a: JSONNode, _ b: JSONNode) -> Int? {
        if let x = number(a), let y = number(b) { return x < y ? -1 : (x > y ? 1 : 0) }
        if let x = a.stringValue, let y = b.stringValue { return x < y ? -1 : (x > y ? 1 : 0) }
        return nil
    }

    private static func number(_ value: JSONNode) -> Double? {
        switch value.value {
        case .integer(let i): Double(i)
        case .double(let d): d
        case .string(let s): Double(s)
        default: nil
        }
    }
}
