import CLibYAML
import HipChatConnect

/// Writes JSON values as readable YAML with libyaml's emitter, which decides quoting.
///
/// Small objects and lists of plain values go on one line in flow style
/// (`vendor: {name: Example, url: https://example.com}`), the rest in block style; members keep
/// their order. Strings that would read back as something else (`true`, `100`, `1:1`, `yes`) are
/// quoted, so the YAML means exactly the JSON it came from, under YAML 1.1 readers too.
public struct YAMLEmitter: Sendable {
    /// The widest a flow-style collection may be, in characters.
    public var flowWidth = 72

    public init() {}

    public func emit(_ root: JSONNode) -> String {
        var emitter = yaml_emitter_t()
        guard yaml_emitter_initialize(&emitter) == 1 else { return "" }
        defer { yaml_emitter_delete(&emitter) }
        let sink = Sink()
        let handler: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int) -> Int32 = {
            data, buffer, size in
            guard let data, let buffer else { return 0 }
            Unmanaged<Sink>.fromOpaque(data).takeUnretainedValue().bytes.append(
                contentsOf: UnsafeBufferPointer(start: buffer, count: size))
            return 1
        }
        yaml_emitter_set_output(&emitter, handler, Unmanaged.passUnretained(sink).toOpaque())
        yaml_emitter_set_width(&emitter, -1)
        yaml_emitter_set_unicode(&emitter, 1)
        yaml_emitter_set_indent(&emitter, 2)

        var event = yaml_event_t()
        yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING)
        yaml_emitter_emit(&emitter, &event)
        yaml_document_start_event_initialize(&event, nil, nil, nil, 1)
        yaml_emitter_emit(&emitter, &event)
        emitNode(root, &emitter, flow: false)
        yaml_document_end_event_initialize(&event, 1)
        yaml_emitter_emit(&emitter, &event)
        yaml_stream_end_event_initialize(&event)
        yaml_emitter_emit(&emitter, &event)
        yaml_emitter_flush(&emitter)
        withExtendedLifetime(sink) {}
        return String(decoding: sink.bytes, as: UTF8.self)
    }

    private final class Sink {
        var bytes: [UInt8] = []
    }

    private func emitNode(_ node: JSONNode, _ emitter: inout yaml_emitter_t, flow: Bool) {
        var event = yaml_event_t()
        switch node.value {
        case .null: scalar("null", plain: true, &emitter)
        case .bool(let b): scalar(b ? "true" : "false", plain: true, &emitter)
        case .integer(let i): scalar(String(i), plain: true, &emitter)
        case .double(let d): scalar(d == d.rounded() && abs(d) < 1e15 ? "\(d)" : "\(d)", plain: true, &emitter)
        case .string(let s): scalar(s, plain: Self.isPlainSafe(s), &emitter)
        case .array(let items):
            let asFlow = flow || fitsOnOneLine(node)
            yaml_sequence_start_event_initialize(
                &event, nil, nil, 1, asFlow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE)
            yaml_emitter_emit(&emitter, &event)
            for item in items { emitNode(item, &emitter, flow: asFlow) }
            yaml_sequence_end_event_initialize(&event)
            yaml_emitter_emit(&emitter, &event)
        case .object(let members):
            let asFlow = flow || fitsOnOneLine(node)
            yaml_mapping_start_event_initialize(
                &event, nil, nil, 1, asFlow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE)
            yaml_emitter_emit(&emitter, &event)
            for member in members {
                scalar(member.name, plain: Self.isPlainSafe(member.name), &emitter)
                emitNode(member.value, &emitter, flow: asFlow)
            }
            yaml_mapping_end_event_initialize(&event)
            yaml_emitter_emit(&emitter, &event)
        }
    }

    private func scalar(_ text: String, plain: Bool, _ emitter: inout yaml_emitter_t) {
        var event = yaml_event_t()
        let style = text.contains("\n") ? YAML_LITERAL_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE
        var bytes = Array(text.utf8)
        bytes.append(0)
        bytes.withUnsafeBufferPointer { buffer in
            _ = yaml_scalar_event_initialize(
                &event, nil, nil, buffer.baseAddress, Int32(buffer.count - 1), plain ? 1 : 0, 1, style)
        }
        yaml_emitter_emit(&emitter, &event)
    }

    /// Whether `s`, written plain, reads back as the same string under YAML 1.2's core schema
    /// and YAML 1.1 (booleans like `yes`, sexagesimal numbers like `1:1`).
    static func isPlainSafe(_ s: String) -> Bool {
        if YAMLScalar.resolvePlain(s) != nil { return false }
        let yaml11Words: Set<String> = ["y", "n", "yes", "no", "on", "off"]
        if yaml11Words.contains(s.lowercased()) { return false }
        if let first = s.first, first.isNumber || first == "+" || first == "-" || first == ".",
            s.allSatisfy({ $0.isNumber || ":._+-eE".contains($0) })
        {
            return false
        }
        return true
    }

    /// A collection of scalars only, short enough to read on one line.
    private func fitsOnOneLine(_ node: JSONNode) -> Bool {
        var length = 0
        func scalarLength(_ n: JSONNode) -> Int? {
            switch n.value {
            case .string(let s): return s.contains("\n") ? nil : s.count + 2
            case .null, .bool, .integer, .double: return 5
            case .array(let items) where items.isEmpty: return 2
            case .object(let members) where members.isEmpty: return 2
            default: return nil
            }
        }
        switch node.value {
        case .array(let items):
            for item in items {
                guard let l = scalarLength(item) else { return false }
                length += l + 2
            }
        case .object(let members):
            guard members.count <= 4 else { return false }
            for member in members {
                guard let l = scalarLength(member.value) else { return false }
                length += member.name.count + l + 4
            }
        default:
            return true
        }
        return length <= flowWidth
    }
}
