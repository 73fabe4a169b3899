import Foundation
import Testing
@testable import HipKit

/// Every input the fuzzers kept (Fuzz/corpus) or found failing (Fuzz/crashes), fed to the
/// same readers again: what once crashed, hung or leaked must stay fixed. The readers are the
/// ones `Fuzz/Sources/hipkit-fuzz` exercises, target for target.
@Suite struct FuzzRegressionTests {
    static let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../Fuzz").standardizedFileURL

    static func inputs(_ target: String) -> [URL] {
        ["corpus", "crashes"].flatMap { kind -> [URL] in
            let folder = fuzz.appendingPathComponent(kind).appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().map { folder.appendingPathComponent($0) }
        }
    }

    static func run(_ target: String, _ bytes: [UInt8]) {
        switch target {
        case "yaml":
            _ = YAMLComposer().compose(bytes, file: "fuzz.yaml")
        case "spec":
            guard let root = YAMLComposer().compose(bytes, file: "addon.yaml").root else { return }
            var translator = SpecTranslator(projectDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("hipkit-fuzz-project"),
                                            displayDirectory: ".", baseUrl: "https://fuzz.example.com", baseUrlLocation: nil)
            _ = DescriptorValidator(origin: .built).validate(translator.translate(root))
        case "descriptor":
            guard let root = YAMLComposer().compose(bytes, file: "descriptor.json").root else { return }
            var diagnostics: [Diagnostic] = []
            let json = JSONNode.from(root, diagnostics: &diagnostics)
            _ = DescriptorValidator(origin: .descriptorFile).validate(json)
            _ = DescriptorImporter().spec(from: json)
        case "page":
            var diagnostics: [Diagnostic] = []
            let matter = FrontMatter.parse(String(decoding: bytes, as: UTF8.self), file: "page.md", diagnostics: &diagnostics)
            _ = MarkdownRenderer().render(matter.body, unsafe: matter.unsafe ?? false)
        case "glance":
            guard let root = YAMLComposer().compose(bytes, file: "glance.json").root else { return }
            var diagnostics: [Diagnostic] = []
            _ = GlanceDataValidator().validate(JSONNode.from(root, diagnostics: &diagnostics))
        default:
            Issue.record("unknown fuzz target \(target)")
        }
    }

    @Test(arguments: ["yaml", "spec", "descriptor", "page", "glance"])
    func keptInputsStillPass(target: String) throws {
        let inputs = Self.inputs(target)
        #expect(!inputs.isEmpty, "Fuzz/corpus/\(target) is in the repository")
        for input in inputs {
            Self.run(target, [UInt8](try Data(contentsOf: input)))
        }
    }
}
