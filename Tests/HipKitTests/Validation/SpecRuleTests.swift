import Foundation
import HipChatConnect
import Testing

@testable import HipKit

/// One input per rule, each with the diagnostic (code, severity and line) it must produce.
///
/// Every spec starts with the same four lines, so a case's own lines start at line 5.
@Suite struct SpecRuleTests {
    static let header =
        "key: com.example.rules\nname: Rules\ndescription: One rule broken at a time.\nbaseUrl: https://rules.example.com\n"

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var body: String
        var code: DiagnosticCode
        var line: Int
        var severity: Diagnostic.Severity = .error
        var hint: String? = nil
        var files: [String: String] = [:]
        var replaceHeader = false
        var testDescription: String { name }
    }

    static let views = """
        sidebars:
          - {key: side, name: Side, url: /side}
        dialogs:
          - {key: dlg, title: Dialog, url: /dlg}

        """

    static let cases: [Case] = [
        Case(
            name: "top-level name is required",
            body: "key: com.example.x\ndescription: d\nbaseUrl: https://x.example.com\n",
            code: .missingField, line: 1, replaceHeader: true),
        Case(
            name: "module key characters", body: views + "glances:\n  - {key: bad key, name: G, icon: /i.png}\n",
            code: .invalidKey, line: 10),
        Case(
            name: "module key length",
            body: "glances:\n  - {key: \(String(repeating: "k", count: 41)), name: G, icon: /i.png}\n", code: .tooLong,
            line: 6),
        Case(
            name: "module keys unique per type",
            body: "dialogs:\n  - {key: d, title: A, url: /a}\n  - {key: d, title: B, url: /b}\n",
            code: .duplicateModuleKey, line: 7),
        Case(
            name: "target names an existing view",
            body: views + "actions:\n  - key: act\n    name: Act\n    location: input\n    target: dgl\n",
            code: .unknownTarget, line: 13, hint: "did you mean 'dlg'?"),
        Case(
            name: "object target names an existing view",
            body: views + "glances:\n  - {key: g, name: G, icon: /i.png, target: {key: nowhere}}\n",
            code: .unknownTarget, line: 10),
        Case(
            name: "webhook pattern compiles",
            body: "webhooks:\n  - {event: room_message, url: /hook, pattern: '^/(deploy'}\n",
            code: .invalidRegex, line: 6),
        Case(
            name: "webhook event is one of HipChat's", body: "webhooks:\n  - {event: room_mesage, url: /hook}\n",
            code: .invalidValue, line: 6, hint: "did you mean 'room_message'?"),
        Case(
            name: "condition allowed for the module",
            body: views + "glances:\n  - key: g\n    name: G\n    icon: /i.png\n    conditions: [message_matches]\n",
            code: .conditionNotAllowed, line: 13),
        Case(
            name: "condition name exists",
            body: views
                + "actions:\n  - {key: a, name: A, location: message, target: dlg, conditions: [user_is_admn]}\n",
            code: .conditionNotAllowed, line: 10, hint: "did you mean 'user_is_admin'?"),
        Case(
            name: "message_matches regex compiles",
            body: views
                + "actions:\n  - key: a\n    name: A\n    location: message\n    target: dlg\n    conditions:\n      - condition: message_matches\n        params: {regex: {pattern: '[unclosed'}}\n",
            code: .invalidRegex, line: 16),
        Case(
            name: "glance_matches metadata well formed",
            body:
                "glances:\n  - key: g\n    name: G\n    icon: /i.png\n    conditions:\n      - {condition: glance_matches, params: {metadata: [{attr: open}]}}\n",
            code: .conditionParams, line: 10),
        Case(
            name: "composite conditions nest two levels at most",
            body: views
                + "actions:\n  - key: a\n    name: A\n    location: message\n    target: dlg\n    conditions:\n      - type: or\n        conditions:\n          - type: and\n            conditions:\n              - {type: or, conditions: [user_is_admin]}\n",
            code: .conditionTooDeep, line: 19),
        Case(
            name: "composite type is and or or",
            body: views
                + "actions:\n  - {key: a, name: A, location: message, target: dlg, conditions: [{type: xor, conditions: [user_is_admin]}]}\n",
            code: .invalidValue, line: 10),
        Case(
            name: "page file exists", body: "sidebars:\n  - {key: s, name: S, page: pages/missing.md}\n",
            code: .missingFile, line: 6),
        Case(
            name: "a wrong type says how to write the right one",
            body: "sidebars:\n  - {key: s, name: S, url: /s, weight: heavy}\n", code: .wrongType, line: 6,
            hint: "write the number in digits, without quotes, such as 100"),
        Case(
            name: "a missing page's hint is a path to copy",
            body: "sidebars:\n  - {key: s, name: S, page: pages/sidbar.md}\n", code: .missingFile, line: 6,
            hint: "did you mean 'pages/sidebar.md'?", files: ["pages/sidebar.md": "# S\n"]),
        Case(
            name: "page is Markdown", body: "sidebars:\n  - {key: s, name: S, page: pages/s.html}\n",
            code: .notMarkdown, line: 6,
            files: ["pages/s.html": "<p>x</p>"]),
        Case(
            name: "page stays inside the project", body: "sidebars:\n  - {key: s, name: S, page: ../outside.md}\n",
            code: .outsideProject, line: 6),
        Case(
            name: "page and url exclude each other",
            body: "sidebars:\n  - {key: s, name: S, page: pages/s.md, url: /s}\n", code: .pageAndUrl, line: 6,
            files: ["pages/s.md": "# S\n"]),
        Case(
            name: "icon file exists", body: "glances:\n  - {key: g, name: G, icon: assets/nope.png}\n",
            code: .missingFile, line: 6),
        Case(
            name: "http outside loopback is a warning",
            body: "install: {callbackUrl: 'http://hooks.example.com/installed'}\n",
            code: .insecureUrl, line: 5, severity: .warning),
        Case(
            name: "a host name starting 127. is not loopback",
            body: "install: {callbackUrl: 'http://127.hooks.example.com/installed'}\n",
            code: .insecureUrl, line: 5, severity: .warning),
        Case(
            name: "unknown field suggests the right one",
            body: "install:\n  callbackUrl: /installed\n  unistalledUrl: /uninstalled\n",
            code: .unknownField, line: 7, severity: .warning, hint: "did you mean 'uninstalledUrl'?"),
        Case(
            name: "unknown top-level field suggests", body: "glance:\n  - {key: g, name: G, icon: /i.png}\n",
            code: .unknownField, line: 5, severity: .warning, hint: "did you mean 'glances'?"),
        Case(
            name: "text fields are at most 100 characters",
            body: "dialogs:\n  - {key: d, url: /d, title: \(String(repeating: "t", count: 101))}\n",
            code: .tooLong, line: 6),
        Case(
            name: "i18n keys are at most 40 characters",
            body:
                "dialogs:\n  - key: d\n    url: /d\n    title: {value: T, i18n: \(String(repeating: "i", count: 41))}\n",
            code: .tooLong, line: 8),
        Case(
            name: "scopes are HipChat's", body: "scopes: [send_notification, view_rooms]\n", code: .invalidValue,
            line: 5, hint: "did you mean 'view_room'?"),
        Case(
            name: "scopes are listed once", body: "scopes: [view_room, view_room]\n", code: .duplicateScope, line: 5,
            severity: .warning),
        Case(
            name: "dialog size preset", body: "dialogs:\n  - {key: d, title: D, url: /d, size: huge}\n",
            code: .invalidValue, line: 6),
        Case(
            name: "dialog size in px or %",
            body: "dialogs:\n  - key: d\n    title: D\n    url: /d\n    size: {width: 40em, height: 300}\n",
            code: .invalidValue, line: 9),
        Case(
            name: "dialog style", body: "dialogs:\n  - {key: d, title: D, url: /d, style: danger}\n",
            code: .invalidValue, line: 6),
        Case(
            name: "action location", body: views + "actions:\n  - {key: a, name: A, location: sidebar, target: dlg}\n",
            code: .invalidValue, line: 10),
        Case(name: "apiVersion is N:N", body: "apiVersion: '1.1'\n", code: .invalidValue, line: 5),
        Case(name: "vendor needs name and url", body: "vendor: {name: Example}\n", code: .missingField, line: 5),
        Case(
            name: "installable somewhere", body: "install: {global: false, room: false}\n", code: .notInstallable,
            line: 5),
        Case(
            name: "weight is a whole number", body: "glances:\n  - {key: g, name: G, icon: /i.png, weight: heavy}\n",
            code: .wrongType, line: 6),
        Case(
            name: "booleans are true or false", body: "install: {global: yes}\n", code: .wrongType, line: 5,
            hint: "write true or false"),
        Case(
            name: "no template placeholders left", body: "install: {callbackUrl: '{{host}}/installed'}\n",
            code: .unexpandedPlaceholder, line: 5),
        Case(
            name: "glance data lozenge type",
            body:
                "glances:\n  - key: g\n    name: G\n    icon: /i.png\n    data: {label: x, status: {lozenge: {label: NEW, type: eror}}}\n",
            code: .invalidValue, line: 9, hint: "did you mean 'error'?"),
        Case(
            name: "a glance status icon is an http or https URL",
            body:
                "glances:\n  - key: g\n    name: G\n    icon: /i.png\n    data: {label: x, status: {icon: 'javascript:alert(1)'}}\n",
            code: .invalidUrl, line: 9),
        Case(
            name: "glance data needs a label",
            body: "glances:\n  - {key: g, name: G, icon: /i.png, data: {status: {lozenge: NEW}}}\n",
            code: .missingField, line: 6),
        Case(
            name: "baseUrl is required", body: "key: com.example.x\nname: X\ndescription: d\n", code: .missingBaseUrl,
            line: 1, replaceHeader: true),
        Case(
            name: "baseUrl is an http(s) URL", body: "key: com.example.x\nname: X\ndescription: d\nbaseUrl: ftp://x\n",
            code: .invalidBaseUrl, line: 4, replaceHeader: true),
        Case(
            name: "extra cannot replace a generated value", body: "extra: {name: Other}\n", code: .extraConflict,
            line: 5),
        Case(
            name: "external pages take only key, name and url",
            body: "externalPages:\n  - {key: e, url: /e, weight: 3}\n", code: .unknownField, line: 6),
        Case(
            name: "duplicate YAML keys", body: "scopes: [view_room]\nscopes: [send_notification]\n",
            code: .yamlDuplicateKey, line: 6),
        Case(
            name: "patterns only for message events",
            body: "webhooks:\n  - {event: room_enter, url: /h, pattern: hello}\n", code: .patternIgnored, line: 6,
            severity: .warning),
        Case(
            name: "settings in the reply of an unsigned webhook",
            body: "webhooks:\n  - event: room_message\n    url: /h\n    authentication: none\n"
                + "    reply: \"Paging {{settings.oncall}}\"\n",
            code: .settingsInUnsignedReply, line: 9, severity: .warning),
        Case(
            name: "room admins need global installs",
            body: "install: {global: false}\nconfigure: {url: /c, allowAccessToRoomAdmins: true}\n",
            code: .roomAdminsWithoutGlobal, line: 6, severity: .warning),
        Case(
            name: "one key for one view",
            body: "sidebars:\n  - {key: v, name: S, url: /s}\ndialogs:\n  - {key: v, title: D, url: /d}\n",
            code: .ambiguousTarget, line: 8, severity: .warning),
        Case(name: "a module must be a mapping", body: "glances:\n  - just text\n", code: .wrongType, line: 6),
        Case(name: "a required module field", body: "dialogs:\n  - {key: d, url: /d}\n", code: .missingField, line: 6),
        Case(
            name: "a webhook url is required", body: "webhooks:\n  - {event: room_message}\n", code: .missingField,
            line: 6),
        Case(
            name: "condition params are an object",
            body: views
                + "actions:\n  - {key: a, name: A, location: message, target: dlg, conditions: [{condition: message_matches, params: [x]}]}\n",
            code: .wrongType, line: 10),
        Case(
            name: "regex flags are JavaScript's",
            body: views
                + "actions:\n  - key: a\n    name: A\n    location: message\n    target: dlg\n    conditions:\n      - {condition: message_matches, params: {regex: {pattern: x, flags: q}}}\n",
            code: .conditionParams, line: 15),
        Case(
            name: "a reply needs a message",
            body: "webhooks:\n  - event: room_message\n    url: /h\n    reply: {color: red}\n", code: .missingField,
            line: 8),
        Case(
            name: "reply colours are HipChat's",
            body: "webhooks:\n  - event: room_message\n    url: /h\n    reply: {message: hi, color: blue}\n",
            code: .invalidValue, line: 8),
        Case(
            name: "card styles are HipChat's",
            body:
                "webhooks:\n  - event: room_message\n    url: /h\n    reply:\n      message: hi\n      card: {style: fancy, id: c1, title: T}\n",
            code: .invalidValue, line: 10, hint: nil),
        Case(
            name: "a card needs an id",
            body:
                "webhooks:\n  - event: room_message\n    url: /h\n    reply:\n      message: hi\n      card: {style: link, title: T}\n",
            code: .missingField, line: 10),
        Case(
            name: "cards allow few HTML tags",
            body:
                "webhooks:\n  - event: room_message\n    url: /h\n    reply:\n      message: hi\n      card: {style: link, id: c, title: T, description: {value: '<div>x</div>', format: html}}\n",
            code: .htmlTag, line: 10),
        Case(
            name: "attribute styles",
            body:
                "webhooks:\n  - event: room_message\n    url: /h\n    reply:\n      message: hi\n      card:\n        style: link\n        id: c\n        title: T\n        attributes: [{label: L, value: {label: V, style: lozenge-red}}]\n",
            code: .invalidValue, line: 14),
        Case(
            name: "setting types", body: "configure:\n  url: /c\n  settings:\n    - {name: a, type: colour}\n",
            code: .invalidValue, line: 8),
        Case(
            name: "select settings need options",
            body: "configure:\n  url: /c\n  settings:\n    - {name: a, type: select}\n", code: .missingField, line: 8),
        Case(
            name: "setting defaults match their type",
            body: "configure:\n  url: /c\n  settings:\n    - {name: a, type: number, default: lots}\n",
            code: .invalidValue, line: 8),
        Case(
            name: "setting names are unique",
            body: "configure:\n  url: /c\n  settings:\n    - {name: a}\n    - {name: a}\n", code: .duplicateSetting,
            line: 9),
        Case(
            name: "setting patterns compile",
            body: "configure:\n  url: /c\n  settings:\n    - {name: a, pattern: '(x'}\n", code: .invalidRegex, line: 8),
    ]

    @Test(arguments: cases)
    func reportsTheRuleAtItsLine(_ c: Case) throws {
        let spec = c.replaceHeader ? c.body : Self.header + c.body
        let dir = try TestSupport.project(spec, files: c.files, name: "rule")
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try TestSupport.load(dir)
        let match = outcome.diagnostics.first {
            $0.code == c.code && $0.location?.line == c.line && $0.severity == c.severity
        }
        #expect(
            match != nil,
            "expected \(c.severity) \(c.code) at line \(c.line); got \(outcome.diagnostics.map { "\($0.severity) \($0.code) \($0.location?.line ?? 0): \($0.message)" })"
        )
        if let hint = c.hint { #expect(match?.hint == hint) }
        #expect(match?.location?.file.hasSuffix("addon.yaml") == true)
    }

    /// What the spec's checks report at its line, the build's check of the runtime manifest
    /// (which has no lines, so speaks at line 1) does not report again.
    @Test(
        arguments: cases.filter {
            ["webhook event is one of HipChat's", "webhook pattern compiles", "setting patterns compile"].contains(
                $0.name)
        })
    func theBuildReportsASpecProblemOnce(_ c: Case) throws {
        let dir = try TestSupport.project(Self.header + c.body, files: c.files, name: "once")
        defer { try? FileManager.default.removeItem(at: dir) }
        let errors = try ProjectBuild.prepare(dir.path, checkOnly: true).diagnostics.filter { $0.severity == .error }
        let shown = errors.map { "\($0.code) \($0.location?.description ?? ""): \($0.message)" }
        #expect(errors.filter { $0.code == c.code && $0.location?.line == c.line }.count == 1, "\(shown)")
        #expect(!errors.contains { $0.location?.line == 1 }, "\(shown)")
    }

    /// An http base URL is one warning, at the base URL, not one for each URL joined to it
    /// (fourteen for `full`); an http URL written in full elsewhere keeps its own.
    @Test func anHttpBaseURLIsOneWarningAtItsLine() throws {
        let spec =
            Self.header.replacingOccurrences(of: "https://rules.example.com", with: "http://rules.example.com")
            + Self.views + "install: {callbackUrl: 'http://hooks.example.com/installed'}\n"
            + "externalPages:\n  - {key: e, name: E, url: 'http://rules.example.com/elsewhere'}\n"
        let dir = try TestSupport.project(spec)
        defer { try? FileManager.default.removeItem(at: dir) }
        let warnings = try TestSupport.load(dir).diagnostics.filter { $0.code == .insecureUrl }
        // The external page's URL is written in full: fixed where it is, so warned there.
        #expect(warnings.map { $0.location?.line } == [4, 9, 11], "\(warnings)")
        #expect(
            warnings.first?.message
                == "the base URL is 'http://rules.example.com', which uses http, and so do the 3 URLs of the descriptor under it; HipChat requires https outside local development"
        )
        #expect(warnings[1].message.contains("'http://hooks.example.com/installed'"))
        #expect(warnings[2].message.contains("'http://rules.example.com/elsewhere'"))
    }

    @Test func aValidSpecHasNoDiagnostics() throws {
        let dir = try TestSupport.project(Self.header + Self.views + "scopes: [send_notification]\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try TestSupport.load(dir)
        #expect(outcome.diagnostics.isEmpty, "\(outcome.diagnostics)")
    }

    /// A field of the wrong type is reported as that alone: the descriptor check does not then
    /// also call the field it could not write missing.
    @Test(arguments: [
        ("key: com.example.x\nname: [not, text]\ndescription: d\nbaseUrl: https://x.example.com\n", 2),
        (header + views + "glances:\n  - {key: g, name: [a], icon: /i.png}\n", 10),
        (header + views + "actions:\n  - {key: a, name: [x], location: message, target: side}\n", 10),
        (header + "scopes: send_notification\nfromName: Rules\n", 5),
    ])
    func aWrongTypeIsNotAlsoAMissingField(_ spec: String, line: Int) throws {
        let dir = try TestSupport.project(spec, name: "wrong-type")
        defer { try? FileManager.default.removeItem(at: dir) }
        let diagnostics = try TestSupport.load(dir).diagnostics
        #expect(
            diagnostics.map(\.code) == [.wrongType] && diagnostics.first?.location?.line == line,
            "\(diagnostics.map { "\($0.code) \($0.location?.line ?? 0): \($0.message)" })")
    }

    /// Every unknown field nested under `extra:` is named, the first too: a mapping's location
    /// is its first entry's, and quieting the mapping quieted that entry.
    @Test func everyUnknownFieldUnderExtraIsNamed() throws {
        let dir = try TestSupport.project(Self.header + "extra:\n  capabilities:\n    aaa: 1\n    bbb: {x: 1}\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let warned = try TestSupport.load(dir).diagnostics.filter { $0.code == .unknownField }
        #expect(
            warned.map(\.message) == [
                "unknown field 'capabilities.aaa' in the descriptor; HipChat ignores it",
                "unknown field 'capabilities.bbb' in the descriptor; HipChat ignores it",
            ])
        #expect(warned.map { $0.location?.line } == [7, 8])
    }

    /// A whole number written `10.0`, as a descriptor's JSON may write it (and `hipkit import`
    /// copies it), is that number; `10.5` is named in the message ("not a number" said nothing).
    @Test func aWholeNumberMayBeWrittenWithAPoint() throws {
        let whole = try TestSupport.project(
            Self.header + "glances:\n  - {key: g, name: G, icon: /i.png, weight: 10.0}\n")
        defer { try? FileManager.default.removeItem(at: whole) }
        let outcome = try TestSupport.load(whole)
        #expect(outcome.diagnostics.isEmpty, "\(outcome.diagnostics.map(\.message))")
        let glance = outcome.project?.descriptor.json["capabilities"]?["glance"]?.arrayValue?.first
        #expect(glance?["weight"]?.value == .integer(10))

        let fraction = try TestSupport.project(
            Self.header + "glances:\n  - {key: g, name: G, icon: /i.png, weight: 10.5}\n", name: "weight-fraction")
        defer { try? FileManager.default.removeItem(at: fraction) }
        let errors = try TestSupport.load(fraction).diagnostics
        #expect(errors.map(\.message) == ["'weight' of glance 'g' must be a whole number, not 10.5"])
        #expect(errors.first?.location?.line == 6)
    }

    /// A dialog's filter is text, `{placeholder: text}` as docs/spec.md writes it, or HipChat's
    /// own `{placeholder: {value, i18n}}`; the middle one failed ("must be an object").
    @Test func aDialogFilterTakesEachDocumentedForm() throws {
        for (filter, value, i18n) in [
            ("Search", "Search", nil), ("{placeholder: Search}", "Search", nil),
            ("{placeholder: {value: Find, i18n: find.key}}", "Find", "find.key"),
        ] as [(String, String, String?)] {
            let dir = try TestSupport.project(
                Self.header + "dialogs:\n  - {key: dlg, title: Dialog, url: /dlg, filter: \(filter)}\n", name: "filter")
            defer { try? FileManager.default.removeItem(at: dir) }
            let outcome = try TestSupport.load(dir)
            #expect(outcome.diagnostics.isEmpty, "\(filter): \(outcome.diagnostics.map(\.message))")
            let written = outcome.project?.descriptor.json["capabilities"]?["dialog"]?.arrayValue?.first?["options"]?[
                "filter"]?["placeholder"]
            #expect(written?["value"]?.stringValue == value, "\(filter)")
            #expect(written?["i18n"]?.stringValue == i18n, "\(filter)")
        }
    }

    @Test func reportsEveryProblemInOneRun() throws {
        let dir = try TestSupport.project(
            Self.header
                + "scopes: [nope]\ndialogs:\n  - {key: 'a b', title: T, url: /d}\nwebhooks:\n  - {event: x, url: /h}\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let codes = try TestSupport.load(dir).diagnostics.map(\.code)
        #expect(codes.filter { $0 == .invalidValue }.count == 2)
        #expect(codes.contains(.invalidKey))
    }

    @Test func unknownEnvironmentIsAUsageError() throws {
        let dir = try TestSupport.project(Self.header + "environments:\n  dev: {baseUrl: 'http://localhost:8080'}\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: HipKitError.self) { try TestSupport.load(dir, options: LoadOptions(environment: "prod")) }
        let dev = try TestSupport.load(dir, options: LoadOptions(environment: "dev"))
        #expect(
            dev.project?.descriptor.selfURL?.value == "http://localhost:8080/atlassian-connect.json")
    }
}
