import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// THE DOOR: the only way from a request — or a service, an algorithm, a CLI command — to the
/// data (docs/access.md, "The door").
///
/// A `Door` holds the repository and the configured privacy policy, and is the only thing that
/// can open a `GuardedRepository`: `open(_:audit:)` decides for a principal with *the* policy
/// the server was configured with (never a default one), so the same principal gets the same
/// decision on every path — FHIR API, portal, CLI import, background consumers. What needs no
/// principal is offered as named operations whose rules live in Trust: the privacy operations
/// (break-the-glass, review, the CURP lookup behind an access request), the audit log as each
/// principal may read it, the event outbox, and — for start-up and the demo loader only — a
/// named `SystemAccess`.
///
/// The compiler keeps the rest shut: `ResourceStore.read`/`write` and `Repository.init` are
/// `@_spi(Unguarded)`, `GuardedRepository.init` is internal to Trust, and the door's repository
/// and store are internal. `Tests/ArchitectureTests` fails if a new unguarded use appears.
public struct Door: Sendable {
    let repository: Repository
    let store: any ResourceStore
    /// The access policy every guard of this door decides with (the configured privacy policy).
    public let policy: AccessPolicy
    public let ledger: AuditLedger
    public let auditBuilder: AuditEventBuilder
    public let clock: any Clock
    /// Users, clients, sign-in, codes and refresh tokens over this door's store.
    public let identity: IdentityService
    /// Reports each committed write to whoever waits for new events (the outbox consumers).
    public let writes: WriteSignal
    /// The domains' rules on writes (`WriteRule`), applied by every guard this door opens.
    public let writeRules: [any WriteRule]

    /// What the door needs besides the store: the privacy policy, the labelling rules, the
    /// audit node name and the identity settings.
    public struct Settings: Sendable {
        public var privacy = PrivacyPolicy()
        public var sensitivityRules: [SensitivityLabeler.Rule] = SensitivityLabeler.defaultRules
        /// The node name in audit entries (`host:port`).
        public var node = "enlace"
        public var requireTOTPForStaff = true
        public var passwordIterations = PasswordHash.defaultIterations
        /// The domains' rules on writes (`WriteRule`).
        public var writeRules: [any WriteRule] = []
        public init() {}
    }

    /// Builds the door over `store` (which the caller hands over and should not keep).
    public init(store: any ResourceStore, key: SigningKey, settings: Settings = Settings(), clock: any Clock = SystemClock(),
                ids: any IDGenerator = UUIDGenerator()) {
        let validator = Validator()
        var repository = Repository(store: store, clock: clock, ids: ids, validate: { validator.validate($0) })
        repository.labeler = SensitivityLabeler(rules: settings.sensitivityRules)
        let writes = WriteSignal()
        repository.committed = { writes.notify() }
        self.repository = repository
        self.store = store
        self.clock = clock
        self.writes = writes
        policy = AccessPolicy(privacy: settings.privacy)
        ledger = AuditLedger(store: store, key: key, clock: clock)
        auditBuilder = AuditEventBuilder(node: settings.node)
        var identity = IdentityService(store: store, clock: clock, requireTOTPForStaff: settings.requireTOTPForStaff,
                                       passwordIterations: settings.passwordIterations)
        identity.secrets = SecretBox(signingKey: key)
        self.identity = identity
        writeRules = settings.writeRules
    }

    /// The same door with another clock (the demo loader dates its story in the past).
    func withClock(_ clock: any Clock) -> Door {
        Door(repository: Door.repository(repository, clock: clock), store: store, policy: policy, ledger: ledger, auditBuilder: auditBuilder,
             clock: clock, identity: identity, writes: writes, writeRules: writeRules)
    }

    private init(repository: Repository, store: any ResourceStore, policy: AccessPolicy, ledger: AuditLedger, auditBuilder: AuditEventBuilder,
                 clock: any Clock, identity: IdentityService, writes: WriteSignal, writeRules: [any WriteRule]) {
        self.repository = repository
        self.store = store
        self.policy = policy
        self.ledger = ledger
        self.auditBuilder = auditBuilder
        self.clock = clock
        self.identity = identity
        self.writes = writes
        self.writeRules = writeRules
    }

    static func repository(_ r: Repository, clock: any Clock) -> Repository {
        var copy = Repository(store: r.store, clock: clock, ids: r.ids, validate: r.validate)
        copy.labeler = r.labeler
        copy.committed = r.committed
        return copy
    }

    /// What the store is, for logs and start-up messages (a PostgreSQL endpoint never shows its password).
    public var storeDescription: String { String(describing: store) }

    /// Opens the guarded repository of `principal`: decides what it may see and do (one set of
    /// store reads per call; nothing is cached across calls, so a change in relationships or
    /// consent holds from the next request), records the decision on `audit`, and returns the
    /// repository that applies it inside every query and appends the audit entry and Provenance
    /// of every write in the write's own transaction. `provenance` is the request's
    /// `X-Provenance` (who is accountable for its writes).
    public func open(_ principal: Principal, audit: AuditContext?, provenance: JSON? = nil) async throws -> GuardedRepository {
        let decision = try await policy.decide(principal, store: store, now: clock.now())
        audit?.decidedBy(decision.rule)
        for b in decision.basis { audit?.decidedBy(b) }
        if decision.breakTheGlass { audit?.breakTheGlass = true }
        if !decision.breakTheGlassPatients.isEmpty { audit?.brokeGlass(for: decision.breakTheGlassPatients) }
        var guarded = GuardedRepository(principal: principal, decision: decision, repository: repository, audit: audit, builder: auditBuilder,
                                        clock: clock)
        guarded.provenanceTemplate = provenance
        guarded.writeRules = writeRules
        return guarded
    }

    /// The named system access for `use` (docs/access.md lists every use and why).
    public func system(_ use: SystemUse) -> SystemAccess {
        SystemAccess(use: use, door: self)
    }
}

/// Wakes whoever waits for committed writes (the outbox consumers), without a queue: at most
/// one pending wake-up, so a burst of writes costs one round of polling.
public final class WriteSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var waiters: [UUID: CheckedContinuation<Bool, Never>] = [:]
    private var pending = false

    public init() {}

    public func notify() {
        lock.lock()
        let woken = Array(waiters.values)
        waiters = [:]
        pending = woken.isEmpty
        lock.unlock()
        for w in woken { w.resume(returning: true) }
    }

    /// Returns at the next write after the previous `wait` (at once if one happened meanwhile):
    /// true; or after `timeout` seconds: false.
    @discardableResult
    public func wait(timeout: Double) async -> Bool {
        let id = UUID()
        return await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            lock.lock()
            if pending {
                pending = false
                lock.unlock()
                c.resume(returning: true)
                return
            }
            waiters[id] = c
            lock.unlock()
            Task {
                try? await Task.sleep(nanoseconds: UInt64(max(0, timeout) * 1_000_000_000))
                self.resume(id)
            }
        }
    }

    private func resume(_ id: UUID) {
        lock.lock()
        let c = waiters.removeValue(forKey: id)
        lock.unlock()
        c?.resume(returning: false)
    }
}
