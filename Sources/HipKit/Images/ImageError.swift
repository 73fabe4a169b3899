import HipChatConnect

/// Why an image could not be decoded, resized or encoded. The message names the problem in terms
/// a user can act on (which format, which size), never in libpng or libjpeg jargon alone.
public struct ImageError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Neither PNG nor JPEG, or a variant of them hipkit does not read (CMYK JPEG).
        case unsupportedFormat
        /// A PNG or JPEG signature, but the data is truncated or damaged.
        case corrupt
        /// More pixels than hipkit is willing to hold in memory.
        case tooLarge
        /// Too small to produce the requested size without upscaling.
        case tooSmall
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
