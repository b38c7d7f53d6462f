import FHIR
import HTTPFront
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// The HTTP front on a raw HTTP/1.1 byte stream: NIO's `HTTPRequestDecoder` (the decoder under
/// Hummingbird's HTTP/1 server) splits it into requests — pipelined, chunked, broken — and each
/// decoded request goes through HTTPFront's parsers in the order the server applies them:
/// content negotiation (`_format`, `Accept`), credentials (`Authorization`, `X-Purpose-Of-Use`,
/// cookies), the query string, `Prefer`, `If-Match`, then the body (a form, or JSON after its
/// `Content-Type`). Decoder errors and refused requests are expected; a crash, a hang or a
/// broken invariant (checked with `precondition`) is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
    defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
    var request = DecodedRequest()
    // two writes, split in the middle: the decoder must resume where a read ended
    for part in [bytes[..<(size / 2)], bytes[(size / 2)...]] {
        do {
            try channel.writeInbound(channel.allocator.buffer(bytes: part))
        } catch {
            return 0  // a malformed stream: the server answers 400 and closes
        }
        while let next = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            request.take(next)
        }
    }
    return 0
}

/// The parts of the request being decoded, served when its end arrives.
struct DecodedRequest {
    var head: HTTPRequestHead?
    var body: [UInt8] = []

    mutating func take(_ part: HTTPServerRequestPart) {
        switch part {
        case .head(let h):
            head = h
            body = []
        case .body(let buffer):
            body += buffer.readableBytesView
        case .end:
            if let head { serve(head, body: body) }
            head = nil
            body = []
        }
    }
}

/// What the server reads of one request, in its order (Sources/Server/Application.swift: the
/// middleware, then the route).
func serve(_ head: HTTPRequestHead, body: [UInt8]) {
    let headers = head.headers
    let target = head.uri.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    let split = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    let query = split.count > 1 ? String(split[1]) : ""

    // the query string, as FHIR searches and operations read it, and as OAuth and the portal do
    let pairs = try? FormEncoding.pairs(query)
    let fields = FormEncoding.uniqueFields(query)
    checkAgree(pairs, fields)

    // FormatMiddleware
    let format = pairs?.first { $0.0 == "_format" }?.1
    do {
        try ContentNegotiation.checkResponseFormat(format: format, accept: headers.first(name: "Accept"))
    } catch let error as FHIRError {
        precondition(error.status == 406, "content negotiation refused with \(error.status)")
    } catch {
        preconditionFailure("content negotiation threw \(error)")
    }

    // AuthenticationMiddleware
    if let authorization = headers.first(name: "Authorization"), let token = Credentials.bearerToken(authorization) {
        precondition(token.first != " " && token.last != " ", "the bearer token keeps spaces: '\(token)'")
    }
    if let header = headers.first(name: "X-Purpose-Of-Use"), let purpose = Credentials.purposeOfUse(header) {
        precondition(!purpose.isEmpty && purpose.count <= 20, "purpose of use '\(purpose)'")
    }
    for name in ["enlace_portal", "enlace_portal_csrf", "lang", "enlace_oauth"] {
        _ = Credentials.cookie(name, in: headers["Cookie"])
    }

    // the route: writes, searches
    if let prefer = headers.first(name: "Prefer") {
        _ = Preferences.returnPreference(prefer)
        _ = Preferences.strictHandling(prefer)
    }
    if let ifMatch = headers.first(name: "If-Match"), let version = try? Preconditions.version(ifMatch: ifMatch) {
        precondition(version > 0, "If-Match '\(ifMatch)' gave version \(version)")
    }

    // the body: a form (POST _search, the OAuth endpoints) or a FHIR JSON resource
    guard !body.isEmpty else { return }
    let contentType = headers.first(name: "Content-Type")?.lowercased()
    if let contentType, FormEncoding.isForm(contentType) {
        let text = String(decoding: body, as: UTF8.self)
        checkAgree(try? FormEncoding.pairs(text), FormEncoding.uniqueFields(text))
        return
    }
    if let contentType {
        do { try ContentNegotiation.checkBodyMediaType(contentType) } catch { return }
    }
    _ = try? JSONParser.parse(body, maxDepth: 100)
}

/// The two readings of one form agree: where the fields parse (no repeats), the pairs parse too
/// and say the same; where the pairs are refused (broken percent-encoding), so are the fields.
func checkAgree(_ pairs: [(String, String)]?, _ fields: [String: String]?) {
    guard let fields else { return }
    guard let pairs else { preconditionFailure("uniqueFields read a form that pairs refused") }
    precondition(pairs.count == fields.count, "\(pairs.count) pairs but \(fields.count) fields")
    for (k, v) in pairs { precondition(fields[k] == v, "field '\(k)' differs") }
}
