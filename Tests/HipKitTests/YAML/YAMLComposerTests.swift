import HipChatConnect
import Testing

@testable import HipKit

@Suite struct YAMLComposerTests {
    func compose(_ text: String, limits: YAMLLimits = .default) -> YAMLComposer.Result {
        YAMLComposer(limits: limits).compose(text, file: "t.yaml")
    }

    @Test func keepsLineAndColumnOfEveryNodeAndKey() throws {
        let result = compose("key: com.example\nglances:\n  - key: one\n    name:   Glance\n")
        let root = try #require(result.root)
        #expect(result.diagnostics.isEmpty)
        let glance = try #require(root["glances"]?.sequence?.first)
        #expect(glance.location == SourceLocation(file: "t.yaml", line: 3, column: 5))
        let name = try #require(glance["name"])
        #expect(name.location == SourceLocation(file: "t.yaml", line: 4, column: 13))
        let nameKey = try #require(glance.mapping?.first { $0.key.scalar?.value == "name" }?.key)
        #expect(nameKey.location == SourceLocation(file: "t.yaml", line: 4, column: 5))
    }

    @Test func readsJSONWithPositions() throws {
        let result = compose("{\n  \"key\": \"a\",\n  \"weight\": 10,\n  \"on\": true\n}")
        let root = try #require(result.root)
        #expect(root["key"]?.location.line == 2)
        #expect(root["key"]?.location.column == 10)
        #expect(root["weight"]?.scalar?.resolved == .integer(10))
        #expect(root["on"]?.scalar?.resolved == .bool(true))
        // Quoted numbers stay strings.
        #expect(compose("v: \"10\"").root?["v"]?.string == "10")
    }

    /// JSON writes a character beyond U+FFFF as two escaped surrogates (Python's `json.dump`
    /// does by default), which libyaml alone refuses; positions after one stay the file's.
    @Test func readsJSONSurrogatePairEscapes() throws {
        let result = compose(#"{"name": "Cup \uD83C\uDFC6 \ud83d\ude00 \\uD83C", "key": "k"}"#)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let root = try #require(result.root)
        #expect(root["name"]?.string == "Cup 🏆 😀 \\uD83C")
        // `"key"` starts at column 51 of the file.
        #expect(root.mapping?.first { $0.key.scalar?.value == "key" }?.key.location.column == 51)
        #expect(root["key"]?.location.column == 58)
        // Flow-style YAML, which is no JSON, is left to libyaml: single-quoted, the backslashes
        // are text, and so they are in plain text after a quote that opens no string.
        #expect(compose(#"{"a": 1, "b": 'x\uD83C\uDFC6'}"#).root?["b"]?.string == #"x\uD83C\uDFC6"#)
        let flow = compose(#"{a: 12", b: x\uD83C\uDF55}"#)
        #expect(flow.root?["b"]?.string == #"x\uD83C\uDF55"#, "\(flow.diagnostics)")
        // A lone surrogate is still refused, with a hint that says how to write the character.
        let lone = compose(#"{"name": "\uD83C"}"#)
        #expect(lone.root == nil)
        #expect(lone.diagnostics.first?.hint?.contains(#"\U0001F3C6"#) == true, "\(lone.diagnostics)")
        // In block-style YAML a backslash outside double quotes is text, so nothing is rewritten
        // there: the pair is refused with the same hint.
        let yaml = compose(#"name: "\uD83C\uDFC6""#)
        #expect(yaml.root == nil)
        #expect(yaml.diagnostics.first?.location?.column == 10)
        #expect(yaml.diagnostics.first?.hint?.contains("the character itself") == true)
        #expect(compose(#"name: a\uD83C\uDFC6"#).root?["name"]?.string == #"a\uD83C\uDFC6"#)
    }

    /// A broken character is shown where it starts, at its lead byte: libyaml points at the
    /// byte after, which it could not take.
    @Test func invalidUTF8IsShownAtTheBrokenCharacter() {
        for bytes: [UInt8] in [
            Array("key: k\nname: Gl".utf8) + [0xE4] + Array("nce\n".utf8),
            Array("key: k\nname: Gl".utf8) + [0xE4, 0xA4, 0x0A],
        ] {
            let result = YAMLComposer().compose(bytes, file: "t.yaml")
            #expect(result.diagnostics.first?.code == .invalidUtf8)
            #expect(result.diagnostics.first?.location == SourceLocation(file: "t.yaml", line: 2, column: 9))
        }
    }

    @Test func reportsDuplicateKeysAtTheSecondOne() {
        let result = compose("key: a\nname: b\nkey: c\n")
        #expect(result.diagnostics.count == 1)
        let d = result.diagnostics[0]
        #expect(d.code == .yamlDuplicateKey)
        #expect(d.location?.line == 3)
        #expect(d.message.contains("line 1"))
        #expect(result.root?["key"]?.string == "a")
    }

    @Test func reportsSyntaxErrorsWithTheirPosition() {
        let result = compose("key: a\nname: [unclosed\nother: b\n")
        #expect(result.root == nil)
        let d = result.diagnostics.first
        #expect(d?.code == .yamlSyntax)
        #expect(d?.severity == .error)
        #expect((d?.location?.line ?? 0) >= 2)
    }

    @Test func tabsIndentationGetsAHint() {
        let result = compose("key: a\nvendor:\n\tname: x\n")
        #expect(result.diagnostics.first?.code == .yamlSyntax)
        #expect(result.diagnostics.first?.location?.line == 3)
        #expect(result.diagnostics.first?.hint?.contains("spaces") == true)
    }

    /// The syntax errors met most each come with what to do, from libyaml's real messages.
    @Test(arguments: [
        ("name: Ops: Alerts\n", "must be quoted, such as name: \"Ops: Alerts\""),
        ("name: [unclosed\nkey: a\n", "close it with ] or }, or quote the text"),
        ("name: {a: b\n", "close it with ] or }, or quote the text"),
        ("name: 'unclosed\n", "a quoted value is not closed"),
        ("oncall: @me\n", "must be quoted (\"@oncall\")"),
        ("a: b\nc d\ne: f\n", "each field is written name: value on a line of its own"),
        ("  name: x\nkey: y\n", "start in the first column"),
        ("vendor:\n  name: x\n url: y\n", "check the indentation"),
        // A field indented past the one above is read as the rest of its value.
        ("glances:\n  - key: q\n      name: Q\n", "indented more than the field on line 2"),
        ("glances:\r\n  - key: q\r\n\r\n      name: Q\r\n", "indented more than the field on line 2"),
        ("vendor:\n  name: Ops: Alerts\n", "must be quoted"),
    ])
    func commonSyntaxErrorsGetAHint(_ text: String, _ hint: String) {
        let d = compose(text).diagnostics.first
        #expect(d?.code == .yamlSyntax)
        #expect(d?.hint?.contains(hint) == true, "\(d?.message ?? "no diagnostic"): \(d?.hint ?? "no hint")")
    }

    @Test func rejectsInvalidUTF8() {
        let bytes: [UInt8] = Array("key: a\nname: ".utf8) + [0xFF, 0xFE] + Array("\n".utf8)
        let result = YAMLComposer().compose(bytes, file: "t.yaml")
        #expect(result.root == nil)
        #expect(result.diagnostics.first?.code == .invalidUtf8)
        #expect(result.diagnostics.first?.location?.line == 2)
    }

    @Test func stopsAnAliasBombEarly() {
        var text = "a: &a [x, x, x, x, x, x, x, x, x]\n"
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]\n"
            previous = name
        }
        let result = compose(text)
        #expect(result.root == nil)
        #expect(result.diagnostics.first?.code == .yamlTooManyNodes)
    }

    @Test func aliasesWithinTheLimitExpand() throws {
        let result = compose("base: &b {url: /x}\ncopy: *b\n")
        #expect(try #require(result.root)["copy"]?["url"]?.string == "/x")
        // The copy is located where the alias is written.
        #expect(result.root?["copy"]?.location.line == 2)
    }

    @Test func capsNestingDepth() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let result = compose(deep)
        #expect(result.root == nil)
        #expect(result.diagnostics.first?.code == .yamlTooDeep)
    }

    @Test func capsInputSize() {
        let result = compose("key: " + String(repeating: "x", count: 200), limits: YAMLLimits(maxInputBytes: 100))
        #expect(result.diagnostics.first?.code == .inputTooLarge)
    }

    @Test func mergeKeysFillInMissingEntries() throws {
        let result = compose("defaults: &d {global: true, room: false}\ninstall:\n  <<: *d\n  room: true\n")
        let install = try #require(result.root?["install"])
        #expect(install["global"]?.scalar?.resolved == .bool(true))
        #expect(install["room"]?.scalar?.resolved == .bool(true))
        #expect(install.mapping?.count == 2)
    }

    @Test func refusesSeveralDocuments() {
        let result = compose("a: 1\n---\nb: 2\n")
        #expect(result.diagnostics.first?.code == .yamlMultipleDocuments)
        #expect(result.diagnostics.first?.location?.line == 2)
    }

    @Test func resolvesScalarsWithTheCoreSchema() {
        #expect(YAMLScalar("yes").resolved == .string("yes"))
        #expect(YAMLScalar("1:1").resolved == .string("1:1"))
        #expect(YAMLScalar("0x1F").resolved == .integer(31))
        #expect(YAMLScalar("1.5e3").resolved == .double(1500))
        #expect(YAMLScalar("~").resolved == .null)
        #expect(YAMLScalar("true", style: .singleQuoted).resolved == .string("true"))
        #expect(YAMLScalar("12", tag: "tag:yaml.org,2002:str").resolved == .string("12"))
        #expect(YAMLScalar("1.2.3").resolved == .string("1.2.3"))
    }

    @Test func emptyInputHasNoRoot() {
        let result = compose("")
        #expect(result.root == nil)
        #expect(result.diagnostics.isEmpty)
    }
}
