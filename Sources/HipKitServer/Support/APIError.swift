import Foundation
import HipChatConnect
import HipKit
import Hummingbird

/// A refusal: the status, one sentence saying why, and the request field at fault if there is
/// one. Handlers throw it; the responder turns it into `{"error": …, "field": …}` (or a short
/// page for a browser) and logs it, so every 4xx reads the same way.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var message: String
    var field: String?
    /// Headers the answer needs whatever its body (CORS on glance queries, `WWW-Authenticate`).
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.field = field
        self.headers = headers
    }

    static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, message, field: field)
    }
    static func notFound(_ message: String = "not found") -> APIError { APIError(.notFound, message) }

    /// The answer: a page when the client is a browser asking for HTML, JSON otherwise.
    func response(forHTML html: Bool) -> Response {
        let (headers, body) = parts(forHTML: html)
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    /// The answer's headers (without its length) and body, for ``response(forHTML:)`` and for
    /// answers written on the event loop (``EventLoopAnswers``).
    func parts(forHTML html: Bool) -> (headers: HTTPFields, body: ByteBuffer) {
        var headers = self.headers
        headers[.cacheControl] = "no-store"
        headers[.xContentTypeOptions] = "nosniff"
        if html {
            let escaped = HTMLText.escape(message)
            let page = """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><title>\(status.code) \(HTMLText.escape(status.reasonPhrase))</title></head>
                <body><h1>\(status.code) \(HTMLText.escape(status.reasonPhrase))</h1><p>\(escaped)</p></body></html>

                """
            headers[.contentType] = "text/html; charset=utf-8"
            return (headers, ByteBuffer(string: page))
        }
        var object: [String: JSONNode] = ["error": .string(message)]
        if let field { object["field"] = .string(field) }
        return (JSONResponse.headers(adding: headers), JSONResponse.body(.object(object)))
    }
}

/// Builds JSON answers with the headers every one of them carries.
enum JSONResponse {
    static func make(_ value: JSONNode, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        make(body: body(value), status: status, headers: headers)
    }

    /// An answer whose JSON text, from ``body(_:)``, was made before.
    static func make(body: ByteBuffer, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        Response(status: status, headers: Self.headers(adding: headers), body: .init(byteBuffer: body))
    }

    /// `headers` with those every JSON answer carries: its type, `nosniff`, and `no-store` unless
    /// `headers` say how long it may be kept.
    static func headers(adding headers: HTTPFields) -> HTTPFields {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
        headers[.xContentTypeOptions] = "nosniff"
        return headers
    }

    /// The text of an answer: `value` as JSON, and a newline.
    static func body(_ value: JSONNode) -> ByteBuffer {
        var data = value.jsonData
        data.append(0x0A)
        return ByteBuffer(bytes: data)
    }
}
