import ArgumentParser
import FHIR
import Foundation
import Server
import Storage
import Trust

/// `enlace token`: prints a signed access token for the local operator or automation.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a signed access token (ES256) for the local operator.",
        discussion: """
            Operator token:     enlace token --data ./enlace-data --scope "system/*.*" --ttl 3600
            A user's token:     enlace token --data ./enlace-data --user ana --scope "patient/*.rs"
            For a client:       enlace token --data ./enlace-data --user dra --client ehr --scope "user/*.rs"
                                (a user's token issued to a registered client, e.g. the one an EHR
                                passes as fhirAuthorization when it calls CDS Hooks as a CDS client)
            The token's audience is the FHIR base URL of the server: the one `enlace serve` recorded in
            the data directory (served.json) when it started, unless --base-url, --host or --port (or
            ENLACE_BASE_URL) say otherwise.
            """)

    @OptionGroup var data: DataOptions

    @Option(name: .long, help: "SMART scopes, space separated (default system/*.*).")
    var scope: String = "system/*.*"

    @Option(name: .long, help: "Lifetime in seconds (default 3600).")
    var ttl: Int64 = 3600

    @Option(name: .long, help: "Subject of the token (default operator).")
    var subject: String = "operator"

    @Option(name: .long, help: "Issue the token for this user, with their role and context (patient, organization, …).")
    var user: String?

    @Option(name: .long, help: "With --user: issue the token to this registered client (`enlace clients add`) instead of the CLI.")
    var client: String?

    @Option(name: .long, help: "Server host the token is for, to build the audience (env ENLACE_HOST).")
    var host: String?

    @Option(name: .long, help: "Server port the token is for (env ENLACE_PORT).")
    var port: Int?

    func run() async throws {
        guard ttl > 0, ttl <= 366 * 86_400 else { throw ValidationError("--ttl must be between 1 second and one year") }
        var config = ServerConfiguration.fromEnvironment()
        if let d = data.data { config.dataDirectory = d }
        if let b = data.baseURL { config.baseURL = b }
        if let host { config.host = host }
        if let port { config.port = port }
        // the audience of the server serving this data directory, as `serve` recorded it
        ServedBaseURL.apply(to: &config, explicitHostOrPort: host != nil || port != nil)
        if client != nil, user == nil { throw ValidationError("--client needs --user: it names the client a user's token is issued to") }
        let scopes = ScopeSet(scope)
        guard !scopes.scopes.isEmpty else {
            throw ValidationError("--scope '\(scope)' grants nothing; use SMART scopes such as \"system/*.*\" or \"system/Patient.rs\"")
        }
        let key = try SigningKey.loadOrCreate(in: config.dataDirectory)
        let authority = TokenAuthority(key: key, issuer: config.fhirBase, audience: config.fhirBase)
        if let username = user {
            var options = data
            options.data = config.dataDirectory
            let services = try await options.services()
            defer { services.close() }
            let identity = services.identity
            guard let account = try await identity.user(username) else { throw ValidationError("no user named '\(username)'") }
            guard !account.disabled else { throw ValidationError("user '\(username)' is disabled") }
            let granted = ScopePolicy.grant(requested: scope, allowed: scope, role: account.principalRole)
            guard !ScopeSet(granted).scopes.isEmpty else {
                throw ValidationError("--scope '\(scope)' grants nothing to a \(account.role) user (system/ scopes are for operators and backend services)")
            }
            if let client {
                guard let registered = try await identity.client(client) else { throw ValidationError("no client '\(client)' is registered (enlace clients list)") }
                guard !registered.disabled else { throw ValidationError("client '\(client)' is disabled") }
            }
            let issued = try identity.issueToken(for: account, scope: granted, patient: nil, clientID: client ?? "enlace-cli", authority: authority, ttl: ttl)
            try await recordIssuance(principal: Principal(claims: issued.claims))
            print(issued.token)
            return
        }
        let issued = try authority.issueClaims(subject: subject, scope: scope, ttl: ttl, now: SystemClock().now(), clientID: "enlace-cli")
        try await recordIssuance(principal: Principal(claims: issued.claims))
        print(issued.token)
    }

    /// Tokens made at the command line are audited like any access: one ledger entry naming
    /// the subject, the token id and the scopes.
    func recordIssuance(principal: Principal) async throws {
        let services = try await data.services()
        defer { services.close() }
        let audit = AuditContext(requestID: "cli", method: "CLI", path: "enlace token", query: "scope=\(scope)", remoteAddress: nil)
        audit.principal = principal
        audit.interaction = "operation"
        audit.decidedBy("urn:enlace:rule:local-operator-cli")
        let now = SystemClock().now()
        let event = AuditEventBuilder(node: "\(ProcessInfo.processInfo.hostName) (enlace token)").build(audit, status: 200, recorded: now)
        _ = try await services.ledger.record(PendingAudit(recorded: now, patients: principal.patient.map { [$0] } ?? [], bytes: event.serialized()))
    }
}
