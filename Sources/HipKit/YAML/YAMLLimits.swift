import HipChatConnect

/// Bounds that keep a hostile or broken file from exhausting memory or the stack.
///
/// The defaults are far above what any real add-on spec or descriptor needs (the biggest real
/// descriptors are a few kilobytes, a few levels deep) and far below what would hurt the machine.
public struct YAMLLimits: Sendable, Hashable {
    /// Largest input accepted, in bytes.
    public var maxInputBytes: Int
    /// Deepest nesting of lists and mappings.
    public var maxDepth: Int
    /// Most nodes in the composed document, counting every node an alias copies in; this is
    /// what stops a "billion laughs" file after a few thousand steps instead of a few gigabytes.
    public var maxNodes: Int

    public init(maxInputBytes: Int = 8 << 20, maxDepth: Int = 128, maxNodes: Int = 500_000) {
        self.maxInputBytes = maxInputBytes
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
    }

    public static let `default` = YAMLLimits()
}
