import Foundation
@_spi(Unguarded) import Storage
@testable import StoragePostgres
import Testing

/// TLS to PostgreSQL (docs/scaling.md, "TLS"): the URL's `sslmode` and `sslrootcert` as libpq
/// reads them, and — when the test cluster has `ssl=on` (scripts/pg-cluster with
/// PG_CLUSTER_SSL=1, as scripts/test starts it) and `ENLACE_TEST_PG_SSLROOTCERT` names its
/// self-signed certificate — what each mode does on the wire, read back from `pg_stat_ssl`.
@Suite("PostgreSQL TLS")
struct PostgresTLSTests {
    typealias Endpoint = PostgresStore.Endpoint

    /// A certificate authority that signed nothing this test connects to.
    static let otherAuthority = """
        -----BEGIN CERTIFICATE-----
        MIIBwDCCAWWgAwIBAgIUEWQ0zCtshGtk5m7zasAMFdyLnJ8wCgYIKoZIzj0EAwIw
        NDEyMDAGA1UEAwwpRW5sYWNlIHRlc3QgYXV0aG9yaXR5IHRoYXQgc2lnbmVkIG5v
        dGhpbmcwIBcNMjYxMjAyMDMzMTEyWhgPMjEyNjExMDgwMzMxMTJaMDQxMjAwBgNV
        BAMMKUVubGFjZSB0ZXN0IGF1dGhvcml0eSB0aGF0IHNpZ25lZCBub3RoaW5nMFkw
        EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFQgRUjHS/KHKm5oetV9A9L2fG7omLpSx
        zfuZ2ffBy2b6e4+/MNo4sxNvw2BEFB5zncr6L8aOgn05OX9eF24khaNTMFEwHQYD
        VR0OBBYEFIlU4DyhGf2Xl0U7wqqgGdn41jvEMB8GA1UdIwQYMBaAFIlU4DyhGf2X
        l0U7wqqgGdn41jvEMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIh
        AOD9onlBxY30hwHK+PsVGlqeoHDlwZDyYw7+K6A5Thh2AiEAhdHrGp5KWlymZGhN
        0b0PVdkXEY+JdxJopbNNrwYiA84=
        -----END CERTIFICATE-----

        """

    static func writeOtherAuthority() throws -> String {
        let path = NSTemporaryDirectory() + "enlace-other-ca-\(UUID().uuidString).pem"
        try otherAuthority.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let StoreError.database(m) { return m } catch { return "\(error)" }
    }

    @Test func sslModeDefaultsToPreferAndParsesEveryLibpqMode() throws {
        let plain = try Endpoint(url: "postgres://u:p@db.example.mx:5432/enlace")
        #expect(plain.sslMode == .prefer)
        #expect(plain.sslRootCert == nil)
        for (text, mode) in [("disable", Endpoint.SSLMode.disable), ("allow", .allow), ("prefer", .prefer), ("require", .require),
                             ("verify-ca", .verifyCA), ("verify-full", .verifyFull)] {
            let e = try Endpoint(url: "postgres://u:p@db.example.mx/enlace?schema=s1&sslmode=\(text)")
            #expect(e.sslMode == mode, "\(text)")
            #expect(e.schema == "s1")
        }
        let rooted = try Endpoint(url: "postgresql://u@db/enlace?sslmode=verify-full&sslrootcert=/etc/ssl/mi%20ca.pem")
        #expect(rooted.sslMode == .verifyFull)
        #expect(rooted.sslRootCert == "/etc/ssl/mi ca.pem")
        // the last sslmode wins, so a caller can append one to a URL that already has one
        #expect(try Endpoint(url: "postgres://u@db/x?sslmode=disable&schema=a&sslmode=require").sslMode == .require)
    }

    @Test func badTLSParametersAreRefusedWithTheirName() throws {
        let bad = Self.message { _ = try Endpoint(url: "postgres://u:secret@db/x?sslmode=on") }
        #expect(bad?.contains("sslmode=on") == true, "\(bad ?? "accepted")")
        #expect(bad?.contains("verify-full") == true)
        #expect(bad?.contains("secret") == false)
        let cert = Self.message { _ = try Endpoint(url: "postgres://u@db/x?sslmode=require&sslcert=/c.pem") }
        #expect(cert?.contains("sslcert") == true, "\(cert ?? "accepted")")
        let empty = Self.message { _ = try Endpoint(url: "postgres://u@db/x?sslmode=verify-full&sslrootcert=") }
        #expect(empty?.contains("sslrootcert") == true, "\(empty ?? "accepted")")
    }

    @Test func queryTimeoutIsReadFromTheURLAndCheckedForRange() throws {
        #expect(try Endpoint(url: "postgres://u@db/x").queryTimeoutSeconds == nil)
        #expect(try Endpoint(url: "postgres://u@db/x?query_timeout=5&sslmode=require").queryTimeoutSeconds == 5)
        for bad in ["0", "3601", "5s", ""] {
            let message = Self.message { _ = try Endpoint(url: "postgres://u:secret@db/x?query_timeout=\(bad)") }
            #expect(message?.contains("query_timeout") == true, "\(bad)")
            #expect(message?.contains("secret") == false)
        }
    }

    @Test func eachModeBuildsTheTLSSettingLibpqWould() throws {
        #expect(try Endpoint(url: "postgres://u@db/x?sslmode=disable").makeTLS().isAllowed == false)
        for mode in ["allow", "prefer"] {
            let tls = try Endpoint(url: "postgres://u@db/x?sslmode=\(mode)").makeTLS()
            #expect(tls.isAllowed && !tls.isEnforced, "\(mode): TLS if offered")
        }
        let ca = try Self.writeOtherAuthority()
        defer { try? FileManager.default.removeItem(atPath: ca) }
        for mode in ["require", "verify-ca", "verify-full"] {
            let tls = try Endpoint(url: "postgres://u@db/x?sslmode=\(mode)&sslrootcert=\(ca)").makeTLS()
            #expect(tls.isEnforced, "\(mode) never falls back to plain TCP")
        }
        #expect(try Endpoint(url: "postgres://u@db/x?sslmode=verify-full&sslrootcert=system").makeTLS().isEnforced)
        let missing = Self.message { _ = try Endpoint(url: "postgres://u@db/x?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem").makeTLS() }
        #expect(missing?.contains("/nonexistent/ca.pem") == true, "\(missing ?? "accepted")")
        let notPEM = NSTemporaryDirectory() + "enlace-not-a-ca-\(UUID().uuidString).pem"
        try "hola".write(toFile: notPEM, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: notPEM) }
        let garbage = Self.message { _ = try Endpoint(url: "postgres://u@db/x?sslmode=verify-ca&sslrootcert=\(notPEM)").makeTLS() }
        #expect(garbage?.contains("PEM") == true, "\(garbage ?? "accepted")")
    }

    static var rootCert: String? {
        let path = ProcessInfo.processInfo.environment["ENLACE_TEST_PG_SSLROOTCERT"]
        return path?.isEmpty == false ? path : nil
    }

    /// `ssl` and `version` of this connection in `pg_stat_ssl`.
    static func wire(_ store: PostgresStore) async throws -> (ssl: Bool, version: String?) {
        let row = try await store.rows(unsafeSQL: "SELECT ssl::text, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first
        return (row?[0] == "true", row?[1] ?? nil)
    }

    @Test(.enabled(if: Backend.postgresURL != nil && PostgresTLSTests.rootCert != nil,
                   "needs ENLACE_TEST_DATABASE_URL on a cluster with ssl=on and ENLACE_TEST_PG_SSLROOTCERT"))
    func eachModeOnTheWire() async throws {
        let migrated = try await PostgresTestDatabase.make()
        defer { PostgresTestDatabase.drop(migrated) }
        let base = Backend.postgresURL! + (Backend.postgresURL!.contains("?") ? "&" : "?") + "schema=" + migrated.endpoint.schema!
        func open(_ query: String) async throws -> PostgresStore { try await PostgresStore(url: base + "&" + query, maxConnections: 1) }

        let root = Self.rootCert!
        for query in ["sslmode=prefer", "sslmode=require", "sslmode=verify-ca&sslrootcert=\(root)", "sslmode=verify-full&sslrootcert=\(root)"] {
            let store = try await open(query)
            defer { store.close() }
            let wire = try await Self.wire(store)
            #expect(wire.ssl, "\(query): encrypted")
            #expect(wire.version?.hasPrefix("TLSv1.") == true, "\(query): \(wire.version ?? "no version")")
        }
        let plain = try await open("sslmode=disable")
        defer { plain.close() }
        #expect(try await Self.wire(plain).ssl == false, "sslmode=disable stays on plain TCP")

        // A certificate from an authority the client was not told to trust is refused, before
        // any query (and before the password is sent).
        let other = try Self.writeOtherAuthority()
        defer { try? FileManager.default.removeItem(atPath: other) }
        for mode in ["verify-ca", "verify-full", "require"] {
            do {
                let store = try await open("sslmode=\(mode)&sslrootcert=\(other)")
                store.close()
                Issue.record("sslmode=\(mode) accepted a certificate sslrootcert did not sign")
            } catch let StoreError.database(message) {
                #expect(message.contains("TLS"), "\(mode): \(message)")
                #expect(!message.contains(migrated.endpoint.password ?? "\u{0}"))
            }
        }
    }
}

/// `?` placeholders become `$n` (PostgreSQL's), except inside quoted literals and identifiers.
@Suite("PostgreSQL statement text")
struct PostgresStatementTextTests {
    @Test func placeholdersAreNumberedOutsideQuotes() {
        #expect(Session.numbered("SELECT ? , ?") == "SELECT $1 , $2")
        #expect(Session.numbered("SELECT '?' || ? FROM \"a?b\" WHERE x = ?") == "SELECT '?' || $1 FROM \"a?b\" WHERE x = $2")
        #expect(Session.numbered("SELECT 'Pérez ¿?', ?") == "SELECT 'Pérez ¿?', $1")
        let many = "VALUES " + Array(repeating: "(?, ?)", count: 600).joined(separator: ", ")
        let numbered = Session.numbered(many)
        #expect(numbered.hasSuffix("($1199, $1200)"))
        #expect(!numbered.contains("?"))
    }
}
