import HipChatConnect

/// A problem with how hipkit was asked to run rather than with the add-on: a missing file, a
/// folder that cannot be read or written, an unknown environment. The CLI exits with 2.
public struct HipKitError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    public var description: String { message }
}
