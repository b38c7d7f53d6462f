import FHIR
import HTTPFront
import HTTPTypes
import Hummingbird
import Storage

/// Building FHIR JSON responses (https://hl7.org/fhir/R4/http.html).
enum FHIRResponse {
    static let contentType = "application/fhir+json; charset=utf-8"

    static func json(_ status: HTTPResponse.Status, _ body: JSON, headers: HTTPFields = [:], pretty: Bool = false) -> Response {
        bytes(status, pretty ? body.prettySerialized() : body.serialized(), headers: headers)
    }

    static func bytes(_ status: HTTPResponse.Status, _ body: [UInt8], headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = contentType
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func outcome(_ error: FHIRError) -> Response {
        var headers: HTTPFields = [:]
        for (k, v) in error.headers {
            if let name = HTTPField.Name(k) { headers[name] = v }
        }
        return json(HTTPResponse.Status(code: error.status), error.operationOutcome, headers: headers)
    }

    /// ETag and Last-Modified of a stored version.
    static func versionHeaders(_ r: StoredResource) -> HTTPFields {
        var h: HTTPFields = [:]
        h[.eTag] = "W/\"\(r.version)\""
        h[.lastModified] = r.lastUpdated.httpDate
        return h
    }

    /// A write's response, honouring `Prefer: return=minimal | representation | OperationOutcome`.
    /// Lenient-mode `repairs` are counted in `X-Enlace-Repairs` and listed, as warnings, in the
    /// OperationOutcome of `return=OperationOutcome`.
    static func written(_ r: StoredResource, status: HTTPResponse.Status, request: Request, base: String, location: Bool,
                        repairs: [Issue] = []) -> Response {
        var h = versionHeaders(r)
        if location { h[.location] = "\(base)/\(r.type)/\(r.id)/_history/\(r.version)" }
        if !repairs.isEmpty { h[.enlaceRepairs] = String(repairs.count) }
        switch preferredReturn(request) {
        case "minimal":
            return Response(status: status, headers: h)
        case "OperationOutcome":
            let stored = Issue(.information, code: "informational", english: "\(r.type)/\(r.id) version \(r.version) stored",
                               spanish: "\(r.type)/\(r.id) versión \(r.version) guardada")
            return json(status, OperationOutcome.make([stored] + repairs), headers: h)
        default:
            return bytes(status, r.body, headers: h)
        }
    }

    /// The `return` preference (https://hl7.org/fhir/R4/http.html#ops), or nil.
    static func preferredReturn(_ request: Request) -> String? {
        guard let prefer = request.headers[.prefer] else { return nil }
        return Preferences.returnPreference(prefer)
    }
}

extension HTTPField.Name {
    static let prefer = HTTPField.Name("Prefer")!
    static let ifNoneExist = HTTPField.Name("If-None-Exist")!
    /// Asks for lenient mode's repair of the body (`X-Enlace-Lenient: drop-empty`, docs/search.md).
    static let enlaceLenient = HTTPField.Name("X-Enlace-Lenient")!
    /// How many repairs lenient mode made to the body.
    static let enlaceRepairs = HTTPField.Name("X-Enlace-Repairs")!
}

import Foundation
