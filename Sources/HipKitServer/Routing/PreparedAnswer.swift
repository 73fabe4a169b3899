import Hummingbird

/// An answer worked out without suspending, from the request's head alone: a file's
/// (``StaticResponder/answer(_:to:cacheControl:extraHeaders:)``). Hummingbird's responder turns
/// it into a `Response`; ``EventLoopAnswers`` writes it to the connection itself.
struct PreparedAnswer {
    enum Body {
        /// No body: HEAD, 304, 416.
        case none
        case bytes(ByteBuffer)
        /// A range of a file on disk, read as the connection takes it.
        case disk(path: String, range: ClosedRange<Int>)
    }

    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: Body
}
