import Foundation
import HipChatConnect
import HipKit

/// A notification as HipChat's `POST room/{id}/notification` takes it, checked before it is
/// queued, for the admin API and the views alike.
enum NotificationBody {
    /// A notification body as HipChat takes it, or a 400 saying what is wrong with it: the
    /// checks of canned webhook replies (``CardValidator``). Warnings (HTML HipChat would not
    /// render) do not refuse it.
    static func checked(_ received: JSONNode) throws(APIError) -> JSONNode {
        guard received.dictionaryValue != nil else {
            throw APIError.badRequest(
                "a notification must be a JSON object with a message, not \(received.kindDescription)", field: "body")
        }
        guard received["message"] != nil else {
            throw APIError.badRequest("message is missing", field: "message")
        }
        // Read again with positions, so that a problem can be traced to the member it is about.
        var ignored: [Diagnostic] = []
        let located =
            YAMLComposer().compose([UInt8](received.jsonData), file: "body").root.map {
                JSONNode.from($0, diagnostics: &ignored)
            } ?? received
        let problems = CardValidator().validate(located, subject: "the notification")
        if let problem = problems.first(where: { $0.severity == .error }) {
            throw APIError.badRequest(
                problem.message + (problem.hint.map { " (\($0))" } ?? ""), field: Self.field(of: problem, in: located))
        }
        return received
    }

    /// The top-level member a problem is about, found by where it points; `body` when none is.
    private static func field(of problem: Diagnostic, in body: JSONNode) -> String {
        guard let location = problem.location else { return "body" }
        for member in body.members ?? [] where Self.contains(member.value, location) || member.nameLocation == location
        {
            return member.name
        }
        return "body"
    }

    private static func contains(_ node: JSONNode, _ location: SourceLocation) -> Bool {
        if node.location == location { return true }
        return (node.members ?? []).contains { contains($0.value, location) }
            || (node.arrayValue ?? []).contains { contains($0, location) }
    }
}
