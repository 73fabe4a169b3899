import Foundation
import HipChatConnect
import Testing

@testable import HipKit

@Suite struct SpecReferenceTests {
    /// docs/spec.md is what the tables say today; `make docs` rewrites it.
    @Test func docsSpecIsCurrent() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../../docs/spec.md"
        ).standardizedFileURL
        let written = try String(contentsOf: docs, encoding: .utf8)
        #expect(written == SpecReference.markdown(), "docs/spec.md is out of date: run `make docs`")
    }

    @Test func everyFieldIsDocumented() {
        let text = SpecReference.markdown()
        for (object, _) in SpecReference.sections {
            for field in object.fields {
                #expect(text.contains("| `\(field.name)` |"), "\(object.name).\(field.name)")
                #expect(!field.doc.isEmpty)
            }
        }
    }
}
