import Foundation
@testable import HipKit

/// One libFuzzer entry point for every target; `HIPKIT_FUZZ_TARGET` picks which, so the
/// package builds (with its sanitizers) once. Each target feeds the bytes to one reader of
/// untrusted input and must return without crashing, hanging or leaking, whatever they are.
enum FuzzTarget: String, CaseIterable {
    /// The YAML layer: libyaml's events composed into located nodes, with its limits.
    case yaml
    /// addon.yaml: the spec translated into a descriptor and validated.
    case spec
    /// A descriptor file: composed, converted to JSON, validated, and imported into a spec.
    case descriptor
    /// A Markdown page: front matter split and parsed, the body rendered by cmark-gfm.
    case page
    /// Glance data as the runtime receives it: composed and validated.
    case glance

    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["HIPKIT_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("HIPKIT_FUZZ_TARGET must be one of: \(allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        return target
    }()

    static let projectDirectory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("hipkit-fuzz-project")

    func run(_ bytes: [UInt8]) {
        switch self {
        case .yaml:
            _ = YAMLComposer().compose(bytes, file: "fuzz.yaml")
        case .spec:
            guard let root = YAMLComposer().compose(bytes, file: "addon.yaml").root else { return }
            var translator = SpecTranslator(projectDirectory: Self.projectDirectory, displayDirectory: ".",
                                            baseUrl: "https://fuzz.example.com", baseUrlLocation: nil)
            let descriptor = translator.translate(root)
            _ = DescriptorValidator(origin: .built).validate(descriptor)
        case .descriptor:
            guard let root = YAMLComposer().compose(bytes, file: "descriptor.json").root else { return }
            var diagnostics: [Diagnostic] = []
            let json = JSONNode.from(root, diagnostics: &diagnostics)
            _ = DescriptorValidator(origin: .descriptorFile).validate(json)
            _ = DescriptorImporter().spec(from: json)
        case .page:
            let text = String(decoding: bytes, as: UTF8.self)
            var diagnostics: [Diagnostic] = []
            let matter = FrontMatter.parse(text, file: "page.md", diagnostics: &diagnostics)
            _ = MarkdownRenderer().render(matter.body, unsafe: matter.unsafe ?? false)
        case .glance:
            guard let root = YAMLComposer().compose(bytes, file: "glance.json").root else { return }
            var diagnostics: [Diagnostic] = []
            _ = GlanceDataValidator().validate(JSONNode.from(root, diagnostics: &diagnostics))
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTarget.selected.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// libFuzzer's driver, from the runtime `-sanitize=fuzzer` links in.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// SwiftPM links an executable's entry point under this name; with `-parse-as-library` there is
/// none, so it hands control to libFuzzer's driver here.
@_cdecl("hipkit_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
