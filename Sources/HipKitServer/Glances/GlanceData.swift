import HipChatConnect
import HipKit

/// Glance data posted by the add-on's owner: the short forms of `addon.yaml` accepted and
/// expanded by the same ``GlanceShortForms`` the build uses, then checked with the same
/// ``GlanceDataValidator``.
enum GlanceData {
    /// The data in HipChat's shape, its label cut to the tags HipChat shows in a glance; fields
    /// HipChat does not read are dropped.
    static func normalize(_ body: JSONNode) -> JSONNode {
        guard body.isObject else { return body }
        return GlanceShortForms.expand(body).data.filteringMembers { ["label", "status", "metadata"].contains($0) }
    }

    /// Throws a 400 naming the field of the first problem, as the validator reports it.
    static func validate(_ data: JSONNode) throws(APIError) {
        let problems = GlanceDataValidator().validate(data, subject: "the glance data")
        guard let first = problems.first(where: { $0.severity == .error }) else { return }
        throw APIError.badRequest(first.message, field: first.field.flatMap { $0.isEmpty ? nil : $0 } ?? "body")
    }
}
