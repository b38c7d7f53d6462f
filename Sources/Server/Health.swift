import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Trust

/// `GET /readyz`: whether this node can serve (docs/reliability.md, "Health and readiness").
///
/// 200 `{"status":"ready",…}` when the database answers, within `timeout`, a read of what every
/// request needs (the outbox position — on PostgreSQL the column of the newest migration — the
/// audit ledger's size and newest tree head); otherwise 503 `{"status":"not-ready","reason":…}`
/// with `Retry-After`, naming the failed check (`database-unreachable`, `database-timeout`,
/// `schema-not-migrated`) but never the database's address or credentials.
///
/// It is registered ahead of the middleware on purpose: a load balancer asks every few
/// seconds, the answer reads no patient data, and it must answer quickly even when the ledger
/// cannot be written (an audited probe would hang with the database it is meant to report on).
/// `/healthz` (process up) stays an ordinary, audited request.
struct Readiness: Sendable {
    let door: Door
    let clock: any Clock
    var timeout: Double = 2
    let logger: Logger

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("readyz") { _, _ in await self.response() }
        router.head("readyz") { _, _ in
            let r = await self.response()
            return Response(status: r.status, headers: r.headers)
        }
    }

    func response() async -> Response {
        let started = ContinuousClock.now
        let outcome = await Readiness.withDeadline(seconds: timeout) { try await door.probeDatabase() }
        let ms = (ContinuousClock.now - started).wholeMilliseconds
        var headers: HTTPFields = [.cacheControl: "no-store", .contentType: "application/json"]
        headers[.xContentTypeOptions] = "nosniff"
        switch outcome {
        case .value(let probe):
            var fields: [(String, JSON)] = [
                ("status", .string("ready")),
                ("database", .string("ok")), ("migrations", .string("applied")),
                ("auditEntries", .number(String(probe.auditEntries))),
                ("databaseMilliseconds", .number(String(ms))),
            ]
            if let head = probe.latestTreeHead {
                let age = max(0, clock.now().microseconds - head.timestamp.microseconds) / 1_000_000
                fields.append(("treeHeadAgeSeconds", .number(String(age))))
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: JSON.object(fields).serialized())))
        case .failed(let error):
            let reason = Readiness.reason(error)
            logger.warning("readiness check failed", metadata: ["reason": "\(reason)", "error": "\(error)"])
            return notReady(reason, headers)
        case .timedOut:
            logger.warning("readiness check timed out", metadata: ["seconds": "\(timeout)"])
            return notReady("database-timeout", headers)
        }
    }

    func notReady(_ reason: String, _ headers: HTTPFields) -> Response {
        var h = headers
        h[.retryAfter] = "5"
        let body = JSON.object([("status", .string("not-ready")), ("reason", .string(reason)),
                                ("details", .string(Readiness.explanation(reason)))])
        return Response(status: .serviceUnavailable, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: body.serialized())))
    }

    /// A missing table or column means the schema is older than this binary; anything else
    /// means the database cannot be used.
    static func reason(_ error: String) -> String {
        let text = error.lowercased()
        let schema = ["no such table", "no such column", "does not exist", "undefined table", "undefined column", "42p01", "42703"]
        return schema.contains { text.contains($0) } ? "schema-not-migrated" : "database-unreachable"
    }

    static func explanation(_ reason: String) -> String {
        switch reason {
        case "schema-not-migrated":
            return "the database schema is older than this server; run `enlace migrate` / el esquema de la base de datos es anterior a este servidor; ejecute `enlace migrate`"
        case "database-timeout":
            return "the database did not answer in time / la base de datos no respondió a tiempo"
        default:
            return "the database cannot be reached / no se puede usar la base de datos"
        }
    }

    enum Outcome<T: Sendable>: Sendable {
        case value(T)
        /// The error's description (store errors name no password).
        case failed(String)
        case timedOut
    }

    /// Runs `body` in its own task and returns its result, or `.timedOut` after `seconds`
    /// without waiting for it (a read stuck on a stopped database is left to finish or fail on
    /// its own; the caller is answered on time).
    static func withDeadline<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async -> Outcome<T> {
        let once = Once<Outcome<T>>()
        return await withCheckedContinuation { (c: CheckedContinuation<Outcome<T>, Never>) in
            once.set(c)
            Task {
                do { once.resume(.value(try await body())) } catch { once.resume(.failed(String(describing: error))) }
            }
            Task {
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                once.resume(.timedOut)
            }
        }
    }

    /// Resumes a continuation exactly once, whichever task comes first.
    final class Once<T: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var continuation: CheckedContinuation<T, Never>?
        private var early: T?

        func set(_ c: CheckedContinuation<T, Never>) {
            lock.lock()
            if let early {
                lock.unlock()
                c.resume(returning: early)
                return
            }
            continuation = c
            lock.unlock()
        }

        func resume(_ value: T) {
            lock.lock()
            if let c = continuation {
                continuation = nil
                early = value  // later calls find no continuation and a value already given
                lock.unlock()
                c.resume(returning: value)
                return
            }
            if early == nil { early = value }
            lock.unlock()
        }
    }
}

extension Duration {
    var wholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
