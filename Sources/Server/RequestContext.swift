import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Logging
import NIOCore
import Trust

/// The per-request context: Hummingbird's core storage, the peer address, and the principal
/// once authentication has run.
public struct EnlaceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: String?
    public var principal: Principal?
    /// This request's audit record, filled in along the way (set by `AuditMiddleware`).
    public var audit: AuditContext?
    /// The `X-Provenance` header of the request, if any (set by the format middleware).
    public var provenanceHeader: String?
    /// On a CDS Hooks call, a bearer token that is not an Enlace access token: the JWT a CDS
    /// client (an EHR) signs for the call, checked by the CDS routes (`CDSClientAuthentication`).
    public var cdsClientJWT: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Bodies are limited by `ServerConfiguration.maxBodyBytes` where the handlers read them
    /// (`FHIRAPI.body`, so the answer is an OperationOutcome 413); this bound is only
    /// Hummingbird's own last resort.
    public var maxUploadSize: Int { 64 * 1024 * 1024 }
}
