import Foundation
@_spi(Unguarded) import Storage

extension PostgresStore {
    /// Where to connect, parsed from `postgres://user:password@host:port/database?schema=name`.
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String?
        public var database: String
        /// Optional schema (the `search_path`) holding Enlace's tables; created if missing.
        public var schema: String?

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
        }

        /// `host:port/database` as user — what error messages name (never the password).
        public var description: String { "\(host):\(port)/\(database) (user \(user)\(schema.map { ", schema \($0)" } ?? ""))" }
    }
}
