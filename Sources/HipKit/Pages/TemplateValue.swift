import Foundation
import HipChatConnect
import Mustache

/// JSON values as the plain Swift values Mustache templates read.
enum TemplateValue {
    static func from(_ node: JSONNode) -> Any? {
        switch node.value {
        case .null: return nil
        case .bool(let b): return b
        case .integer(let i): return i
        case .double(let d): return d
        case .string(let s): return s
        case .array(let items): return items.compactMap(from)
        case .object: return TemplateObject(node)
        }
    }

    /// An object's members by name, for a context the caller adds to (a page's front matter).
    /// `extra`: room for that many more, which the caller adds (a dictionary that grows rehashes
    /// every key it holds).
    static func dictionary(from node: JSONNode, extra: Int = 0) -> [String: Any] {
        var dictionary: [String: Any] = [:]
        dictionary.reserveCapacity((node.members?.count ?? 0) + extra)
        for member in node.members ?? [] { dictionary[member.name] = from(member.value) }
        return dictionary
    }

    /// A localizable `{value}` as its text.
    static func text(_ node: JSONNode?) -> String? {
        node?.stringValue ?? node?["value"]?.stringValue
    }

    /// JSON text safe inside an HTML `<script>` element: `<` is escaped so `</script>` cannot
    /// close it early.
    static func scriptJSON(_ node: JSONNode) -> String {
        let json = JSONWriter.string(node.withoutLocations)
        let lessThan = UInt8(ascii: "<")
        guard json.utf8.contains(lessThan) else { return json }
        var out: [UInt8] = []
        out.reserveCapacity(json.utf8.count + 16)
        for byte in json.utf8 {
            if byte == lessThan { out += Array("\\u003c".utf8) } else { out.append(byte) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A mapping as templates read it: `{{object.name}}` and `{{#object}}` as with a dictionary,
/// but rendered by itself (`{{environment}}`) it is its JSON text (as `hipkit build` writes JSON,
/// members in the order written), the same bytes every build —
/// a Swift dictionary prints its keys in an order that changes from run to run. `enumerated`
/// walks the members in the order written, `sorted` by name.
struct TemplateObject: MustacheParent, MustacheCustomRenderable, MustacheTransformable {
    private let node: JSONNode
    private let members: [(key: String, value: Any)]
    private let byName: [String: Any]

    init(_ node: JSONNode) {
        self.node = node
        var members: [(key: String, value: Any)] = []
        var byName: [String: Any] = [:]
        for member in node.members ?? [] {
            guard let value = TemplateValue.from(member.value) else { continue }
            if byName.updateValue(value, forKey: member.name) == nil {
                members.append((member.name, value))
            } else if let i = members.firstIndex(where: { $0.key == member.name }) {
                members[i].value = value
            }
        }
        self.members = members
        self.byName = byName
    }

    func child(named name: String) -> Any? { byName[name] }

    var renderText: String { String(JSONWriter.string(node.withoutLocations).dropLast()) }
    var isNull: Bool { false }

    func transform(_ name: String) -> Any? {
        switch name {
        case "count": members.count
        case "empty": members.isEmpty
        case "enumerated": members
        case "sorted": members.sorted { $0.key < $1.key }
        default: nil
        }
    }
}

/// A string as templates read it, for the values hipkit itself puts in every page's context
/// (`{{page.title}}`, `{{{page.content}}}`): it renders, tests, sorts and transforms as a
/// `String` does (`{{#page.title}}`, `{{uppercased(page.title)}}`, `{{#sorted(page.scripts)}}`).
/// (Only a dynamic partial, `{{>*name}}`, would need a `String` itself, and layouts may not
/// use one.)
///
/// Why: swift-mustache renders a value it does not know as `String(describing:)` of it, after
/// reflecting on it with `Mirror` to unwrap optionals — about 4,500 instructions for each
/// `{{name}}` on this runtime, most of a lookup's cost. A value that is
/// `MustacheCustomRenderable` is rendered by `renderText` alone.
struct TemplateText: MustacheCustomRenderable, MustacheTransformable, MustacheParent, Comparable, Sendable {
    let text: String

    init(_ text: String) {
        self.text = text
    }

    var renderText: String { text }
    var isNull: Bool { false }
    func transform(_ name: String) -> Any? { text.transform(name) }
    /// None, as a `String` has none (`{{page.title.text}}` is empty, not the title).
    func child(named: String) -> Any? { nil }
    static func < (a: TemplateText, b: TemplateText) -> Bool { a.text < b.text }
}

/// A page's HTML in its layout (`{{{page.content}}}`), as cmark's UTF-8 bytes. The layout
/// renders a marker in its place, and ``splice(into:)`` puts the bytes there in the page's file.
///
/// Why: as a `String`, a page's HTML was checked as UTF-8 once more when it was made from
/// cmark's output, then copied into swift-mustache's output, which grows one append at a time:
/// 6% of a clean build of 1,000 pages, for bytes that go into the file as they are.
///
/// Everything else a template does with the HTML (`{{page.content}}` escaped, a transform, a
/// content type of its own) is done with the text itself, as with ``TemplateText``: the marker
/// then shows in another form, and the page is rendered again with the text.
struct TemplateHTML: MustacheCustomRenderable, MustacheTransformable, MustacheParent {
    let utf8: [UInt8]

    var text: String { String(decoding: utf8, as: UTF8.self) }
    var renderText: String { Self.marker }
    var isNull: Bool { false }
    func transform(_ name: String) -> Any? { text.transform(name) }
    func child(named: String) -> Any? { nil }

    /// Between two U+0001 bytes, which nothing else in a layout's output holds as a rule; random
    /// for each run, so no page can hold it; `<` and `>`, which escaping changes, so an escaped
    /// use shows.
    private static let markerBytes: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<2).map { _ in String(generator.next() as UInt64, radix: 16) }.joined(separator: "-")
        return Array("\u{1}<hipkit-html-\(random)>\u{1}".utf8)
    }()
    static let marker = String(decoding: markerBytes, as: UTF8.self)

    /// The layout's `output` with the HTML in place of each marker; nil when the output holds a
    /// U+0001 byte that is not part of one (an escaped marker, or one in the page's own values),
    /// for the caller to render the page with ``text`` instead.
    func splice(into output: String) -> Data? {
        var output = output
        return output.withUTF8 { text -> Data? in
            guard let base = text.baseAddress else { return Data() }
            let marker = Self.markerBytes
            var data = Data(capacity: text.count + utf8.count)
            var start = 0
            var position = 0
            // Only the marker's first byte is searched for (memchr, many bytes at a time): a
            // page's layout holds about two.
            while position < text.count, let hit = memchr(base + position, 1, text.count - position) {
                let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                guard at + marker.count <= text.count,
                    marker.withUnsafeBytes({ memcmp(base + at, $0.baseAddress!, marker.count) }) == 0
                else { return nil }
                data.append(UnsafeBufferPointer(rebasing: text[start..<at]))
                data.append(contentsOf: utf8)
                start = at + marker.count
                position = start
            }
            data.append(UnsafeBufferPointer(rebasing: text[start...]))
            return data
        }
    }
}
