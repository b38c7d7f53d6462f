import FHIR
import Foundation

/// What the audit ledger needs to know about one request, filled in as the request travels:
/// the middleware sets who and from where, the guarded repository adds what was touched, which
/// patients it concerns and which rule decided. One entry per request comes out of it.
///
/// A reference type shared by the middleware and the data path of one request; guarded by a lock.
public final class AuditContext: @unchecked Sendable {
    private let lock = NSLock()

    public let requestID: String
    public let method: String
    public let path: String
    public let query: String?
    public let remoteAddress: String?

    private var _principal: Principal?
    private var _interaction: String?
    private var _entities: [String] = []
    private var _patients: Set<String> = []
    private var _policies: [String] = []
    private var _recordedIndex: Int64?
    private var _recordedBytes: [UInt8]?
    private var _breakTheGlass = false
    private var _glassPatients: Set<String> = []
    private var _disclosure: Disclosure?

    /// Data sent to someone outside a request (a Subscription's notification, docs/subscriptions.md
    /// "Audit"): the entry is an Export (DICOM 110106) to `destination`, naming the Subscription.
    public struct Disclosure: Sendable, Equatable {
        /// `Subscription/{id}`.
        public var subscription: String
        /// `rest-hook`, `websocket`.
        public var channel: String
        /// The endpoint's host, or the websocket client's address.
        public var destination: String
        public init(subscription: String, channel: String, destination: String) {
            self.subscription = subscription
            self.channel = channel
            self.destination = destination
        }
    }

    /// Set when this entry records a disclosure rather than a request.
    public var disclosure: Disclosure? {
        get { locked { _disclosure } }
        set { locked { _disclosure = newValue } }
    }

    public init(requestID: String, method: String, path: String, query: String?, remoteAddress: String?) {
        self.requestID = requestID
        self.method = method
        self.path = path
        self.query = query
        self.remoteAddress = remoteAddress
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    public var principal: Principal? {
        get { locked { _principal } }
        set { locked { _principal = newValue } }
    }

    /// The FHIR restful interaction (`read`, `search-type`, `create`, …) or operation.
    public var interaction: String? {
        get { locked { _interaction } }
        set { locked { _interaction = newValue } }
    }

    public var entities: [String] { locked { _entities } }
    public var patients: [String] { locked { _patients.sorted() } }
    public var policies: [String] { locked { _policies } }

    /// Set when the entry was written in the same database transaction as the data.
    public var recordedIndex: Int64? {
        get { locked { _recordedIndex } }
        set { locked { _recordedIndex = newValue } }
    }
    /// The bytes of the entry appended inside a write's transaction (with `recordedIndex`): a
    /// transaction the database rolls back and retries (a PostgreSQL serialization failure) must
    /// append its entry again, and the bytes tell a committed entry of this request from another's.
    public var recordedBytes: [UInt8]? {
        get { locked { _recordedBytes } }
        set { locked { _recordedBytes = newValue } }
    }

    /// The entry is flagged break-the-glass (purpose ETREAT): set by `$break-the-glass` itself,
    /// or because the request touched a patient the asker sees only through an active
    /// break-the-glass grant (`brokeGlass(for:)`). Other requests of the same practitioner are
    /// not flagged.
    public var breakTheGlass: Bool {
        get { locked { _breakTheGlass || !_patients.isDisjoint(with: _glassPatients) } }
        set { locked { _breakTheGlass = newValue } }
    }

    /// Patients the asker sees through break-the-glass in this request.
    public func brokeGlass(for patients: Set<String>) {
        locked { _glassPatients.formUnion(patients) }
    }

    /// Adds a touched resource (`Patient/1/_history/2`) and the patients whose compartment holds it.
    public func touched(_ reference: String, patients: [String]) {
        locked {
            if _entities.count < 1000, !_entities.contains(reference) { _entities.append(reference) }
            for p in patients where _patients.count < 1000 { _patients.insert(p) }
        }
    }

    /// Adds patients concerned without a specific resource (e.g. a compartment search).
    public func concerns(_ patient: String) {
        locked { if _patients.count < 1000 { _patients.insert(patient) } }
    }

    /// Records the rule or Consent that allowed or denied the access (`urn:enlace:rule:…`, `Consent/…`).
    public func decidedBy(_ policy: String) {
        locked { if !_policies.contains(policy) { _policies.append(policy) } }
    }
}
