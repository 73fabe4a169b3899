import Foundation
import HTTPTypes
import HipChatConnect
import HipKitTemplates
import Hummingbird
import NIOCore
import ServiceLifecycle

/// The routes only `hipkit dev` has, under `/_hipkit/dev/`, and what it does to the pages it
/// serves: every HTML page gets the live-reload script, and nothing is cached.
struct DevRoutes: Sendable {
    static let prefix = "/_hipkit/dev/"
    static let scriptPath = "/_hipkit/dev/reload.js"
    /// What is put into every HTML page: the script, and which process and build the page came
    /// from. `hipkit build` never writes it; only answers of `hipkit dev` carry it.
    ///
    /// The page learns of new builds only once its event stream is open, which is some time
    /// after its HTML was sent; a rebuild in between is news it would never hear. The script
    /// opens the stream with the build it was made from (`?since=`), and the first event says
    /// what changed since.
    static func scriptTag(instance: String, build: Int) -> String {
        "<script src=\"\(scriptPath)\" data-hipkit-dev data-instance=\"\(instance)\" data-build=\"\(build)\"></script>"
    }

    static let lastEventID = HTTPField.Name("Last-Event-ID")!

    let session: DevSession
    /// Read once: the script is part of the installed hipkit, not of the project.
    let script: ByteBuffer

    init(session: DevSession) {
        self.session = session
        script = ByteBuffer(
            bytes: TemplatesBundle.data("dev/reload.js")
                ?? Data("console.error('hipkit dev: reload.js is missing from this hipkit');".utf8))
    }

    func handle(path: String, request: Request) throws -> Response {
        guard request.method == .get || request.method == .head else {
            throw APIError(.methodNotAllowed, "GET \(path)", headers: [.allow: "GET, HEAD"])
        }
        switch path {
        case Self.scriptPath:
            return Response(
                status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "no-cache"],
                body: .init(byteBuffer: script))
        case "/_hipkit/dev/events":
            // The last build a reconnecting page heard of, else the one a page was served from.
            let since =
                request.headers[Self.lastEventID].flatMap { Int($0) }
                ?? RequestPath.queryParameter("since", in: request.uri.query).flatMap { Int($0) }
            return events(since: since)
        case "/_hipkit/dev/status":
            let status = session.status
            var object: [String: JSONNode] = ["instance": .string(session.instance), "build": .integer(status.build)]
            if let problems = status.problems, let data = try? JSONEncoder().encode(problems),
                let value = try? JSONDecoder().decode(JSONNode.self, from: data)
            {
                object["problems"] = value
            } else {
                object["problems"] = .null
            }
            return JSONResponse.make(.object(object))
        default:
            throw APIError.notFound("no such hipkit dev route")
        }
    }

    /// An endless `text/event-stream` of ``DevEvent``s; ends when the page goes away or the
    /// server shuts down.
    private func events(since: Int?) -> Response {
        // Reconnect quickly after a restart of `hipkit dev`.
        EventStream.response(session.subscribe(since: since), retry: .milliseconds(500))
    }

    /// The build being served, to read before the site is (a rebuild swaps the site, then counts
    /// the build): a page stamped with it is never older than the build it names.
    var servedBuild: Int { session.status.build }

    /// A page of the build with the reload script in it; `build` is ``servedBuild`` as read
    /// before `file` was looked up.
    func page(_ file: StaticFile, build: Int, request: Request, extraHeaders: HTTPFields) throws -> Response {
        guard request.method == .get || request.method == .head else {
            throw APIError(.methodNotAllowed, "files answer GET and HEAD", headers: [.allow: "GET, HEAD"])
        }
        let html: ByteBuffer
        switch file.storage {
        case .memory(let bytes, _):
            html = bytes
        case .disk(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw APIError.notFound("this page is not in the build")
            }
            html = ByteBuffer(bytes: data)
        }
        var headers = extraHeaders
        headers[.contentType] = file.contentType
        headers[.cacheControl] = "no-store"
        headers[.xContentTypeOptions] = "nosniff"
        let response = Response(
            status: .ok, headers: headers,
            body: .init(byteBuffer: Self.inject(Self.scriptTag(instance: session.instance, build: build), into: html)))
        return request.method == .head ? response.createHeadResponse() : response
    }

    /// `html` with `scriptTag` before `</head>` (so it runs even on a page whose own scripts
    /// throw), else before `</body>`, else at the end.
    static func inject(_ scriptTag: String, into html: ByteBuffer) -> ByteBuffer {
        let bytes = Array(html.readableBytesView)
        let tag = Array(scriptTag.utf8)
        let at =
            tagIndex(of: "</head", in: bytes, last: false) ?? tagIndex(of: "</body", in: bytes, last: true)
            ?? bytes.count
        var out = ByteBuffer()
        out.reserveCapacity(bytes.count + tag.count)
        out.writeBytes(bytes[..<at])
        out.writeBytes(tag)
        out.writeBytes(bytes[at...])
        return out
    }

    /// Case-insensitive search for an ASCII closing tag, the first or the `last`: the name must
    /// end there (`</head>` or `</head >`, not `</header>`).
    private static func tagIndex(of needle: String, in bytes: [UInt8], last: Bool) -> Int? {
        let pattern = Array(needle.utf8)
        guard bytes.count > pattern.count else { return nil }
        let end = bytes.count - pattern.count
        let starts = last ? stride(from: end - 1, through: 0, by: -1) : stride(from: 0, through: end - 1, by: 1)
        for index in starts {
            var matches = true
            for offset in 0..<pattern.count where bytes[index + offset] | 0x20 != pattern[offset] | 0x20 {
                matches = false
                break
            }
            let next = bytes[index + pattern.count]
            if matches, next == UInt8(ascii: ">") || next == 0x20 || next == 0x09 || next == 0x0A || next == 0x0D {
                return index
            }
        }
        return nil
    }
}
