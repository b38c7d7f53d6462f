import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import Trust

/// `GET /metrics`: what operators watch, in the Prometheus text format (docs/reliability.md,
/// "Metrics"), with swift-prometheus:
///
/// - `enlace_http_requests_total{method,route,type,status}` and
///   `enlace_http_request_duration_seconds{route,type}` — every request, timed from the first
///   byte handled to the response (audit append included);
/// - `enlace_audit_ledger_entries`, `enlace_audit_tree_head_age_seconds` — the ledger's size and
///   how old its newest signed tree head is (a head that stops advancing is a stuck ledger);
/// - `enlace_outbox_lag_events{consumer}` — events each outbox consumer has yet to handle;
/// - `enlace_db_pool_connections{state}` — PostgreSQL pool use (open, idle, max).
///
/// Labels are bounded: `route` is the interaction (`read`, `search-type`, `create`, `$export`,
/// `portal`, …), `type` a known resource type or `-`, and an operation name outside the server's
/// own operations is `$other` — so a client cannot grow the series without bound. No label or
/// value holds patient data. Like `/readyz`, the endpoint sits ahead of the middleware (not
/// audited, no token): expose it only to the monitoring network (deploy/nginx-enlace.conf
/// keeps it to the host).
final class EnlaceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let resourceTypes: Set<String>
    let operations: Set<String>
    static let buckets: [Duration] = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                      .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10)]

    init(definitions: Definitions = .r4, contributions: [CapabilityContribution] = CapabilityContribution.all) {
        resourceTypes = Set(definitions.resourceTypes)
        var ops: Set<String> = ["validate", "everything", "lastn", "decisions", "export", "export-status", "export-file", "import-status", "import-file"]
        for c in contributions { for list in c.operations.values { for op in list { ops.insert(op.name) } } }
        operations = ops
    }

    /// The route label of a request: the FHIR interaction its method and path stand for.
    func route(method: HTTPRequest.Method, path: String) -> (route: String, type: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.first == "fhir" else {
            switch parts.first {
            case nil: return ("root", "-")
            case "oauth", ".well-known": return ("oauth", "-")
            case "cds-services": return ("cds-hooks", "-")
            case "healthz", "readyz": return (parts[0], "-")
            case "audit": return ("audit", "-")
            default: return ("portal", "-")
            }
        }
        let rest = Array(parts.dropFirst())
        func op(_ s: String) -> String { let name = String(s.dropFirst()); return operations.contains(name) ? "$" + name : "$other" }
        guard let first = rest.first else { return (method == .post ? "transaction" : "search-system", "-") }
        if first == "metadata" { return ("capabilities", "-") }
        if first == "openapi.json" { return ("openapi", "-") }
        if first == "_history" { return ("history-system", "-") }
        if first == "_search" { return ("search-system", "-") }
        if first.hasPrefix("$") { return (op(first), "-") }
        let type = resourceTypes.contains(first) ? first : "unknown"
        switch rest.count {
        case 1:
            switch method {
            case .get: return ("search-type", type)
            case .post: return ("create", type)
            case .put: return ("conditional-update", type)
            case .delete: return ("conditional-delete", type)
            default: return ("other", type)
            }
        case 2:
            if rest[1] == "_history" { return ("history-type", type) }
            if rest[1] == "_search" { return ("search-type", type) }
            if rest[1].hasPrefix("$") { return (op(rest[1]), type) }
            switch method {
            case .get: return ("read", type)
            case .put: return ("update", type)
            case .delete: return ("delete", type)
            default: return ("other", type)
            }
        default:
            if rest[2].hasPrefix("$") { return (op(rest[2]), type) }
            if rest[2] == "_history" { return (rest.count == 3 ? "history-instance" : "vread", type) }
            return ("search-compartment", type)
        }
    }

    func record(method: HTTPRequest.Method, path: String, status: Int, duration: Duration) {
        let (route, type) = self.route(method: method, path: path)
        registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "enlace", subsystem: "http", metricName: "requests", unitName: "total",
                                                              helpText: "HTTP requests by interaction and status"),
                             labels: [("method", method.rawValue), ("route", route), ("type", type), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: MetricNameDescriptor(namespace: "enlace", subsystem: "http", metricName: "request_duration",
                                                                        unitName: "seconds", helpText: "Time to answer a request, audit included"),
                                       labels: [("route", route), ("type", type)], buckets: EnlaceMetrics.buckets).record(duration)
    }

    /// Reads the gauges (ledger, outbox, pool) and renders every metric.
    func scrape(door: Door, consumers: [String], clock: any Clock) async -> [UInt8] {
        func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "enlace", metricName: name, helpText: help), labels: labels)
        }
        let up = gauge("database_up", "1 when the database answered this scrape's reads")
        do {
            let probe = try await door.probeDatabase()
            gauge("audit_ledger_entries", "Entries in the audit ledger").set(Double(probe.auditEntries))
            if let head = probe.latestTreeHead {
                let age = Double(clock.now().microseconds - head.timestamp.microseconds) / 1_000_000
                gauge("audit_tree_head_age_seconds", "Age of the newest signed tree head").set(max(0, age))
                gauge("audit_tree_head_size", "Entries covered by the newest signed tree head").set(Double(head.treeSize))
            }
            for (name, lag) in try await door.outboxLag(consumers: consumers) {
                gauge("outbox_lag_events", "Committed events an outbox consumer has yet to handle (capped at 10000)", [("consumer", name)]).set(Double(lag))
            }
            up.set(Double(1))
        } catch {
            up.set(Double(0))
        }
        if let use = door.connectionUse {
            let help = "PostgreSQL connections of this node's pool"
            gauge("db_pool_connections", help, [("state", "open")]).set(Double(use.open))
            gauge("db_pool_connections", help, [("state", "idle")]).set(Double(use.idle))
            gauge("db_pool_connections", help, [("state", "max")]).set(Double(use.max))
        }
        return registry.emitToBuffer()
    }

    func register<Context: RequestContext>(on router: Router<Context>, door: Door, consumers: [String], clock: any Clock) {
        router.get("metrics") { _, _ in
            let body = await self.scrape(door: door, consumers: consumers, clock: clock)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
    }
}

/// The outermost middleware: counts and times every request for `/metrics`.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: EnlaceMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.record(method: request.method, path: request.uri.path, status: Int(response.status.code), duration: ContinuousClock.now - start)
            return response
        } catch {
            let status = (error as? HTTPResponseError)?.status.code ?? 500
            metrics.record(method: request.method, path: request.uri.path, status: Int(status), duration: ContinuousClock.now - start)
            throw error
        }
    }
}
