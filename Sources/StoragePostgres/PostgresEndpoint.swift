import Foundation
@_spi(Unguarded) import Storage

extension PostgresStore {
    /// Where to connect, parsed from
    /// `postgres://user:password@host:port/database?schema=name&sslmode=verify-full&sslrootcert=/path/ca.pem`.
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String?
        public var database: String
        /// Optional schema (the `search_path`) holding Enlace's tables; created if missing.
        public var schema: String?
        /// The second key of the writers' advisory lock: FNV-1a (32-bit) of the schema name
        /// (`public` when the URL names none), the same on every node and every run, so the nodes
        /// of one schema queue on one lock and other schemas of the database are not held up.
        public var writerLockObject: Int32 {
            var h: UInt32 = 0x811C_9DC5
            for b in (schema ?? "public").utf8 {
                h ^= UInt32(b)
                h = h &* 0x0100_0193
            }
            return Int32(bitPattern: h)
        }
        /// How TLS is used (libpq's `sslmode`, https://www.postgresql.org/docs/15/libpq-ssl.html);
        /// `prefer` when the URL does not say.
        public var sslMode: SSLMode
        /// `sslrootcert`: a PEM file of the certificate authorities to trust, or `system` for the
        /// operating system's store. Only used by the verifying modes (and by `require`, which then
        /// verifies the chain, as libpq does).
        public var sslRootCert: String?
        /// `query_timeout` (Enlace's own, seconds, 1–3600): each statement's `statement_timeout`
        /// and `lock_timeout`, and — 2 s later — the client-side timer that gives up on a server
        /// that does not answer at all (paused, partitioned). nil: the store's default (30 s).
        public var queryTimeoutSeconds: Int?

        /// Parses a `postgres://` or `postgresql://` URL. Throws `StoreError.database` with a
        /// message that never contains the password.
        public init(url: String) throws {
            guard let c = URLComponents(string: url), let scheme = c.scheme, ["postgres", "postgresql"].contains(scheme) else {
                throw StoreError.database("the database URL must look like postgres://user:password@host:5432/database")
            }
            guard let host = c.host, !host.isEmpty else { throw StoreError.database("the database URL has no host (postgres://user:password@HOST:5432/database)") }
            guard let user = c.user, !user.isEmpty else { throw StoreError.database("the database URL has no user (postgres://USER:password@host:5432/database)") }
            let db = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
            guard !db.isEmpty else { throw StoreError.database("the database URL has no database name (postgres://user:password@host:5432/DATABASE)") }
            self.host = host
            port = c.port ?? 5432
            self.user = user.removingPercentEncoding ?? user
            password = c.password.map { $0.removingPercentEncoding ?? $0 }
            database = db.removingPercentEncoding ?? db
            schema = c.queryItems?.first(where: { $0.name == "schema" })?.value
            if let schema, schema.isEmpty || !schema.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) {
                throw StoreError.database("the schema in the database URL must be lowercase letters, digits and _")
            }
            let items = c.queryItems ?? []
            if let mode = items.last(where: { $0.name == "sslmode" })?.value {
                guard let parsed = SSLMode(rawValue: mode) else {
                    throw StoreError.database("sslmode=\(mode) in the database URL is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = parsed
            } else {
                sslMode = .prefer
            }
            sslRootCert = items.last(where: { $0.name == "sslrootcert" })?.value.map { $0.removingPercentEncoding ?? $0 }
            if let root = sslRootCert, root.isEmpty { throw StoreError.database("sslrootcert in the database URL is empty (give a PEM file, or system)") }
            if let raw = items.last(where: { $0.name == "query_timeout" })?.value {
                guard let seconds = Int(raw), (1...3600).contains(seconds) else {
                    throw StoreError.database("query_timeout=\(raw) in the database URL must be a whole number of seconds from 1 to 3600")
                }
                queryTimeoutSeconds = seconds
            }
            for unsupported in ["sslcert", "sslkey", "sslpassword", "sslcrl"] where items.contains(where: { $0.name == unsupported }) {
                throw StoreError.database("\(unsupported) in the database URL is not supported (client certificates and CRLs are not implemented; see docs/scaling.md)")
            }
        }

        /// libpq's TLS modes. `allow` is accepted and behaves as `prefer` (PostgresNIO cannot try
        /// without TLS first); `prefer` encrypts when the server offers TLS and does not verify;
        /// `require` encrypts or fails (verifying the chain only when `sslrootcert` is given, as
        /// libpq does); `verify-ca` verifies the chain; `verify-full` also the host name (or IP).
        public enum SSLMode: String, Sendable, Equatable, CaseIterable {
            case disable, allow, prefer, require
            case verifyCA = "verify-ca"
            case verifyFull = "verify-full"
        }

        /// `host:port/database` as user — what error messages name (never the password).
        public var description: String { "\(host):\(port)/\(database) (user \(user)\(schema.map { ", schema \($0)" } ?? ""))" }
    }
}
