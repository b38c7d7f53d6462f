import ArgumentParser
import FHIR
import Foundation
import Hummingbird
import Interop
import Logging
import Server
import Storage

/// `enlace serve`: runs the FHIR server until SIGTERM or SIGINT, then shuts down gracefully
/// (in-flight requests finish, the database closes cleanly).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Enlace server (FHIR R4 at /fhir).")

    @OptionGroup var data: DataOptions

    @Option(name: .long, help: "Address to listen on (env ENLACE_HOST; default 127.0.0.1).")
    var host: String?

    @Option(name: .long, help: "Port (env ENLACE_PORT; default 8080).")
    var port: Int?

    @Option(name: .long, help: "Largest request body in bytes (env ENLACE_MAX_BODY_BYTES; default 16 MiB).")
    var maxBodyBytes: Int?

    @Option(name: .long, help: "How long break-the-glass access lasts, in minutes (env ENLACE_BREAK_THE_GLASS_MINUTES; default 240; decimals allowed).")
    var breakTheGlassMinutes: Double?

    @Flag(name: .customLong("totp-for-staff"), inversion: .prefixedNo,
          help: "Require a TOTP code when staff (practitioner, pharmacy, payer, org-admin, privacy-officer, auditor, operator) sign in.")
    var totpForStaff = true

    @Option(name: .long, help: "Publish signed audit tree heads to this witness file (one JSON head per line, appended), outside the database's reach; `enlace audit verify --witness` checks it.")
    var witness: String?

    @Option(name: .long, help: "Seconds between publications to the witness, when the log has grown (default 60).")
    var witnessInterval: Double?

    @Option(name: .long, help: "Replace the Cartilla Nacional de Salud built in with this FHIR Bundle of PlanDefinitions and ActivityDefinitions (docs/prevention.md, \"Replacing the schedule\"); refused at start if malformed.")
    var knowledge: String?

    @Flag(name: .long, help: "Refuse every prescription that is not signed by its prescriber (a detached ES256 JWS, docs/prescribing.md); without it a signature is required once the prescriber has registered a key.")
    var requirePrescriberSignature = false

    @Option(name: .long, help: "Allow Bulk Data $import to fetch files from this source: host:port, host (ports 80 and 443) or an http(s) URL prefix; repeatable (env ENLACE_IMPORT_ALLOW, comma-separated; default: none, $import refused).")
    var importAllow: [String] = []

    @Option(name: .long, help: "Where rest-hook Subscription notifications may be sent: public (any public address), a host name, *.domain, an IP address or CIDR block (10.0.0.0/8, fd00::/8), or none; repeatable or comma-separated (env ENLACE_SUBSCRIPTION_ENDPOINTS; default: public — loopback, private, link-local and other internal addresses refused).")
    var subscriptionEndpoints: [String] = []

    @Option(name: .long, help: "Largest file $import fetches, in bytes (env ENLACE_IMPORT_MAX_FILE_BYTES; default 1 GiB).")
    var importMaxFileBytes: Int64?

    @Option(name: .long, help: "Longest time $import spends on one file, in seconds (env ENLACE_IMPORT_FILE_TIMEOUT_SECONDS; default 600).")
    var importFileTimeout: Double?

    @Flag(name: .customLong("event-consumers"), inversion: .prefixedNo,
          help: "Run the outbox consumers (alert rules, care gaps, subscription delivery, the daily prevention pass) in this node; --no-event-consumers makes an API-only node while other nodes on the same database run them (docs/scaling.md).")
    var eventConsumers = true

    @Flag(name: .long, help: "Fill an empty data directory with a synthetic Mexican demo (patients, clinics, a year of care) and print the demo sign-ins. Implies --no-totp-for-staff.")
    var demo = false

    func run() async throws {
        var config = ServerConfiguration.fromEnvironment()
        config.requireTOTPForStaff = totpForStaff && !demo
        config.requirePrescriberSignature = requirePrescriberSignature
        config.runsEventConsumers = eventConsumers
        if let host { config.host = host }
        if let port { config.port = port }
        if let d = data.data { config.dataDirectory = d }
        if let b = data.baseURL { config.baseURL = b }
        if let m = maxBodyBytes { config.maxBodyBytes = m }
        if let m = breakTheGlassMinutes {
            guard m > 0, m <= 7 * 24 * 60 else { throw ValidationError("--break-the-glass-minutes must be more than 0 and at most 10080 (a week)") }
            config.privacy.breakTheGlassSeconds = max(1, Int64((m * 60).rounded()))
        }
        if let w = witness { config.witnessPath = w }
        if let i = witnessInterval {
            guard i >= 1, i <= 86_400 else { throw ValidationError("--witness-interval must be from 1 to 86400 seconds") }
            guard witness != nil else { throw ValidationError("--witness-interval needs --witness PATH") }
            config.witnessInterval = i
        }
        guard (1...65535).contains(config.port) else { throw ValidationError("--port must be between 1 and 65535") }
        if !importAllow.isEmpty { config.bulkImportAllow = importAllow }
        do { _ = try BulkImport.AllowList(config.bulkImportAllow) } catch let e as FHIRError {
            throw ValidationError("--import-allow: " + e.issues.map(\.english).joined(separator: "; "))
        }
        if !subscriptionEndpoints.isEmpty { config.subscriptionEndpoints = subscriptionEndpoints }
        if let problem = config.subscriptionEndpointsProblem {
            throw ValidationError("--subscription-endpoints / ENLACE_SUBSCRIPTION_ENDPOINTS: " + problem)
        }
        if let n = importMaxFileBytes {
            guard n > 0 else { throw ValidationError("--import-max-file-bytes must be more than 0") }
            config.bulkImportMaxFileBytes = n
        }
        if let t = importFileTimeout {
            guard t > 0, t <= 86_400 else { throw ValidationError("--import-file-timeout must be more than 0 and at most 86400 seconds") }
            config.bulkImportFileTimeoutSeconds = t
        }
        if let d = data.database { config.databaseURL = d }
        if let path = knowledge {
            do { try config.loadPreventionKnowledge(path) } catch { fail("enlace serve: --knowledge \(path): \(error)") }
        }
        var logger = Logger(label: "enlace")
        logger.logLevel = .info
        let services: EnlaceServices
        do {
            services = try await EnlaceServices.connect(config, logger: logger)
        } catch let StoreError.database(message) {
            fail("enlace serve: cannot open the database: \(message)")
        } catch {
            fail("enlace serve: cannot open the data directory \(config.dataDirectory): \(error)")
        }
        do {
            try ServedBaseURL.record(config)
        } catch {
            logger.warning("could not record the base URL in \(ServedBaseURL.path(in: config.dataDirectory)): \(error); `enlace token` needs --port or --base-url")
        }
        let where_ = config.databaseURL == nil ? "data: \(config.dataDirectory)" : "database: \(services.door.storeDescription), key: \(config.dataDirectory)"
        logger.info("Enlace \(EnlaceVersion.current) serving FHIR R4 at \(config.fhirBase) (\(where_))")
        if demo { try await loadDemo(services, config) }
        let app = buildApplication(services, logger: logger)
        defer { services.close() }
        try await app.runService()
    }
}

/// `--demo`: loads the synthetic demo into an empty data directory and prints its sign-ins
/// (random passwords, shown only this once).
func loadDemo(_ services: EnlaceServices, _ config: ServerConfiguration) async throws {
    var out = ""
    if let signIns = try await DemoData(services: services).loadIfEmpty() {
        let base = "http://\(config.host == "0.0.0.0" ? "127.0.0.1" : config.host):\(config.port)/"
        out += "\nEnlace demo loaded: 56 synthetic patients, IMSS UMF 20, Hospital Santa Fe, Centro de Especialidades Coyoacán, Farmacia Roma, Seguros Vida Plena.\n"
        out += "Open \(base) and sign in with (passwords are random and shown only now; TOTP is off for staff in the demo):\n"
        for s in signIns {
            out += "  demo-user \(s.username) \(s.password) \(s.role) — \(s.who)\n"
        }
        out += "\n"
    } else {
        out += "Enlace demo: the data directory already has data; the demo was not loaded again (its sign-ins were printed when it was created; use an empty --data directory for a fresh demo).\n"
    }
    FileHandle.standardOutput.write(Data(out.utf8))
}

/// Prints `message` to standard error and exits with status 1 (no usage text: the arguments
/// were fine, the environment is not).
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(1)
}
