import Foundation
import Monitoring
import Prevention
import Trust

/// Everything the server needs to start, in one value passed down (no globals).
public struct ServerConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// Where the SQLite database and the signing key live.
    public var dataDirectory: String = "./enlace-data"
    /// A PostgreSQL URL (`postgres://user:password@host:5432/database`): when set, resources
    /// and the audit ledger live there instead of the SQLite file; the signing key stays in
    /// `dataDirectory`.
    public var databaseURL: String?
    /// Largest request body accepted, bytes (413 above it).
    public var maxBodyBytes: Int = 16 * 1024 * 1024
    /// Deepest JSON nesting accepted (400 above it).
    public var maxJSONDepth: Int = 100
    /// The privacy policy (docs/privacy-policy.md): sensitive categories, break-the-glass
    /// duration, payer types, secondary purposes.
    public var privacy = PrivacyPolicy()
    /// Rules that put sensitivity labels on resources as they are stored.
    public var sensitivityRules: [SensitivityLabeler.Rule] = SensitivityLabeler.defaultRules
    /// The public base URL of the FHIR API; also the `aud` and `iss` of access tokens. When
    /// nil, `http://host:port/fhir`.
    public var baseURL: String?
    /// Page size of history bundles when `_count` is absent, and the largest one allowed.
    public var defaultPageSize: Int = 50
    public var maxPageSize: Int = 1000
    /// Most entries a transaction or batch bundle may carry.
    public var maxBundleEntries: Int = 1000
    /// Longest query string (or `_search` form body) accepted, bytes.
    public var maxQueryBytes: Int = 64 * 1024

    /// Runs the domains' outbox consumers (alert rules, care gaps and risk scores, …) in this
    /// process (docs/architecture.md, "The event outbox"). Every node may run them (their cursors
    /// are compared and set in each writing transaction). The in-process HTTP tests turn them off
    /// so that the entries and versions they count are the requests' own; the tests of a domain
    /// run its consumers explicitly (`door.catchUp`).
    public var runsEventConsumers = true
    /// A witness file the signed tree heads are published to (`--witness`; docs/audit.md).
    public var witnessPath: String?
    /// Seconds between publications to the witness (when the log has grown).
    public var witnessInterval: Double = 60
    /// Test-only: serves `GET /_fault` that fails with an unexpected error (to check that a 500
    /// is still an OperationOutcome and still audited). Never set in production.
    public var faultInjection = false
    /// Staff roles (practitioner, pharmacy, payer, org-admin, privacy-officer, auditor,
    /// operator) must sign in with a TOTP code.
    public var requireTOTPForStaff: Bool = true
    /// Every prescription must be signed by its prescriber (`--require-prescriber-signature`);
    /// otherwise a signature is required once the prescriber has a registered key (docs/prescribing.md).
    public var requirePrescriberSignature = false
    /// PBKDF2-HMAC-SHA256 iterations for new password hashes (tests lower it for speed).
    public var passwordIterations: Int = 210_000
    /// How long a finished Bulk Data export's files are kept, seconds (env
    /// `ENLACE_BULK_EXPORT_RETENTION_SECONDS`; default one hour; docs/interop.md#bulk-data-export).
    public var bulkExportRetentionSeconds: Double = 3600
    /// Where `$import` may fetch files from (`--import-allow`, env `ENLACE_IMPORT_ALLOW`,
    /// comma-separated): `host:port`, `host` or an http(s) URL prefix; empty (the default):
    /// nowhere, and `$import` answers 403 saying how to allow a source
    /// (docs/interop.md#bulk-import).
    public var bulkImportAllow: [String] = []
    /// Largest import file fetched, bytes (env `ENLACE_IMPORT_MAX_FILE_BYTES`; default 1 GiB).
    public var bulkImportMaxFileBytes: Int64 = 1 << 30
    /// Longest time spent fetching and storing one import file, seconds (env
    /// `ENLACE_IMPORT_FILE_TIMEOUT_SECONDS`; default 600).
    public var bulkImportFileTimeoutSeconds: Double = 600
    /// Where rest-hook Subscription notifications may be sent (`--subscription-endpoints`, env
    /// `ENLACE_SUBSCRIPTION_ENDPOINTS`, comma-separated): `public`, host names, `*.domain`
    /// wildcards, IP addresses and CIDR blocks, or `none` (`EndpointPolicy`). Empty (the
    /// default): public addresses only — loopback, private, link-local and the other non-public
    /// ranges are refused (docs/subscriptions.md, "Where notifications may go").
    public var subscriptionEndpoints: [String] = []
    /// A replacement Cartilla (`enlace serve --knowledge FILE`, validated at start); nil: the
    /// edition built in (docs/prevention.md, "Replacing the schedule").
    public var preventionKnowledge: CartillaKnowledge?

    public init() {}

    /// Reads `ENLACE_HOST`, `ENLACE_PORT`, `ENLACE_DATA`, `ENLACE_DATABASE_URL`, `ENLACE_BASE_URL`,
    /// `ENLACE_MAX_BODY_BYTES`, `ENLACE_BREAK_THE_GLASS_MINUTES`, `ENLACE_BULK_EXPORT_RETENTION_SECONDS`,
    /// `ENLACE_IMPORT_ALLOW`, `ENLACE_IMPORT_MAX_FILE_BYTES`, `ENLACE_IMPORT_FILE_TIMEOUT_SECONDS`,
    /// `ENLACE_SUBSCRIPTION_ENDPOINTS` over the defaults.
    /// The parsed `subscriptionEndpoints`; a malformed setting (refused by `enlace serve` at
    /// start, `EndpointPolicy.SettingError`) refuses every endpoint rather than none.
    public var subscriptionEndpointPolicy: EndpointPolicy { (try? EndpointPolicy(subscriptionEndpoints)) ?? .refusingAll }

    /// What is wrong with `subscriptionEndpoints` (the entry and why), or nil when it is well formed.
    public var subscriptionEndpointsProblem: String? {
        do {
            _ = try EndpointPolicy(subscriptionEndpoints)
            return nil
        } catch let e as EndpointPolicy.SettingError {
            return "'\(e.entry)': \(e.english)"
        } catch {
            return "\(error)"
        }
    }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> ServerConfiguration {
        var c = ServerConfiguration()
        if let v = env["ENLACE_HOST"] { c.host = v }
        if let v = env["ENLACE_PORT"], let p = Int(v) { c.port = p }
        if let v = env["ENLACE_DATA"] { c.dataDirectory = v }
        if let v = env["ENLACE_DATABASE_URL"], !v.isEmpty { c.databaseURL = v }
        if let v = env["ENLACE_BASE_URL"] { c.baseURL = v }
        if let v = env["ENLACE_MAX_BODY_BYTES"], let n = Int(v) { c.maxBodyBytes = n }
        if let v = env["ENLACE_BULK_EXPORT_RETENTION_SECONDS"], let s = Double(v), s > 0, s <= 30 * 24 * 3600 { c.bulkExportRetentionSeconds = s }
        if let v = env["ENLACE_IMPORT_ALLOW"] { c.bulkImportAllow = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        if let v = env["ENLACE_SUBSCRIPTION_ENDPOINTS"] { c.subscriptionEndpoints = [v] }
        if let v = env["ENLACE_IMPORT_MAX_FILE_BYTES"], let n = Int64(v), n > 0 { c.bulkImportMaxFileBytes = n }
        if let v = env["ENLACE_IMPORT_FILE_TIMEOUT_SECONDS"], let s = Double(v), s > 0, s <= 24 * 3600 { c.bulkImportFileTimeoutSeconds = s }
        if let v = env["ENLACE_BREAK_THE_GLASS_MINUTES"], let m = Double(v), m > 0, m <= 7 * 24 * 60 {
            c.privacy.breakTheGlassSeconds = Int64((m * 60).rounded())
        }
        return c
    }

    public var fhirBase: String {
        if let baseURL { return baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL }
        return "http://\(host):\(port)/fhir"
    }

    /// The origin the OAuth endpoints live under: the FHIR base without its trailing `/fhir`.
    public var oauthBase: String {
        let base = fhirBase
        if base.hasSuffix("/fhir") { return String(base.dropLast(5)) }
        if let url = URL(string: base), let scheme = url.scheme, let host = url.host {
            return "\(scheme)://\(host)" + (url.port.map { ":\($0)" } ?? "")
        }
        return base
    }

    /// The token endpoint, also the `aud` client assertions must carry.
    public var tokenURL: String { oauthBase + "/oauth/token" }

    public var databasePath: String { (dataDirectory as NSString).appendingPathComponent("enlace.sqlite") }
}
