import HipChatConnect

/// One field of an `addon.yaml` object: its name, what it holds, where it lands in the
/// descriptor, and a line of documentation.
///
/// The spec is described as data so the same tables drive reading, "did you mean"
/// suggestions, and the documentation of every field.
struct SpecField: Sendable {
    /// What a field holds and how it becomes descriptor JSON.
    indirect enum Kind: Sendable {
        /// Text, copied.
        case string
        case boolean
        case integer
        /// A URL; relative ones are joined to the base URL.
        case url
        /// A list of URLs, each joined to the base URL when relative.
        case urls
        /// A Markdown file of the project; becomes the URL of the page rendered from it.
        case page
        /// An image: a project file (its `@2x` twin found beside it) or a URL, or `{url, url@2x}`.
        case icon
        /// Like an icon, but HipChat also takes a plain URL string for the avatar.
        case avatar
        /// Text users see: a string, or `{value, i18n}`.
        case localizable
        /// A module key, or `{key, options}`.
        case target
        /// A list of conditions; a bare name stands for `{condition: name}`.
        case conditions
        /// A list of strings.
        case strings
        /// Any JSON, copied.
        case json
        /// `small`, `medium`, `large`, `xlarge`, or `{width, height}` (numbers mean pixels).
        case dialogSize
        /// A dialog button: its name as a string, or `{name, key, enabled}`.
        case button
        /// A list of dialog buttons.
        case buttons
        /// A dialog's filter box: its placeholder text, or `{placeholder}`.
        case filter
        /// `message` or `input` (or HipChat's full location names).
        case actionLocation
        /// Glance data served for the glance: `{label, status, metadata}`.
        case glanceData
        /// A nested object.
        case object(SpecObject)
        /// A list of objects.
        case list(SpecObject)
        /// Read before translation (baseUrl, environments): not copied into the descriptor.
        case setting
        /// A PNG or JPEG file of the project (Marketplace listing images).
        case image
        /// The Marketplace listing: read by its own reader, never part of the descriptor.
        case listing
        /// A webhook's canned reply, answered by `hipkit serve`: a message, or `{message, format, color, notify, card}`.
        case webhookReply
        /// The settings a configuration page edits, stored by `hipkit serve`.
        case settings
    }

    var name: String
    var kind: Kind
    /// Where the value goes, relative to the descriptor object being built; empty for settings.
    var path: [String]
    var doc: String

    init(_ name: String, _ kind: Kind, to path: [String]? = nil, _ doc: String) {
        self.name = name
        self.kind = kind
        self.path = path ?? [name]
        self.doc = doc
    }
}

/// An object of `addon.yaml` (the top level, a glance, a dialog, …).
struct SpecObject: Sendable {
    var name: String
    var fields: [SpecField]
    /// Members every descriptor object of this kind gets (a sidebar's location).
    var fixed: [(String, String)] = []
    /// The descriptor module this object becomes, for the module lists and single capabilities.
    var module: ModuleKind?

    init(name: String, module: ModuleKind? = nil, fields: [SpecField], fixed: [(String, String)] = []) {
        self.name = name
        self.module = module
        self.fields = fields
        self.fixed = fixed
    }

    func field(_ name: String) -> SpecField? { fields.first { $0.name == name } }
}
