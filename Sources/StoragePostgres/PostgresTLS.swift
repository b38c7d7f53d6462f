import Foundation
import NIOSSL
import PostgresNIO
@_spi(Unguarded) import Storage

extension PostgresStore.Endpoint {
    /// PostgresNIO's TLS setting for this endpoint's `sslmode` and `sslrootcert` (libpq's meaning,
    /// https://www.postgresql.org/docs/15/libpq-ssl.html#LIBPQ-SSL-PROTECTION):
    ///
    /// | sslmode | encrypted | chain verified | host verified |
    /// | --- | --- | --- | --- |
    /// | `disable` | no | – | – |
    /// | `allow`, `prefer` (default) | if the server offers TLS | no | no |
    /// | `require` | yes, or the connection fails | only if `sslrootcert` is given | no |
    /// | `verify-ca` | yes | yes | no |
    /// | `verify-full` | yes | yes | yes (DNS name or IP address in the certificate) |
    ///
    /// The verifying modes trust `sslrootcert` (a PEM file) or, without it or with
    /// `sslrootcert=system`, the operating system's store. Built once per store: the context
    /// (with its parsed CA file) is shared by every connection of the pool.
    func makeTLS() throws -> PostgresConnection.Configuration.TLS {
        if sslMode == .disable { return .disable }
        var config = TLSConfiguration.makeClientConfiguration()
        config.minimumTLSVersion = .tlsv12
        let verifyChain: Bool
        switch sslMode {
        case .disable: return .disable
        case .allow, .prefer: verifyChain = false
        case .require: verifyChain = sslRootCert != nil
        case .verifyCA, .verifyFull: verifyChain = true
        }
        if !verifyChain {
            config.certificateVerification = .none
        } else {
            config.certificateVerification = sslMode == .verifyFull ? .fullVerification : .noHostnameVerification
            if let root = sslRootCert, root != "system" {
                guard FileManager.default.isReadableFile(atPath: root) else {
                    throw StoreError.database("sslrootcert=\(root) in the database URL: the file does not exist or cannot be read")
                }
                do {
                    let certificates = try NIOSSLCertificate.fromPEMFile(root)
                    guard !certificates.isEmpty else { throw StoreError.database("sslrootcert=\(root) holds no PEM certificate") }
                    config.trustRoots = .certificates(certificates)
                } catch let e as StoreError {
                    throw e
                } catch {
                    throw StoreError.database("sslrootcert=\(root) in the database URL is not a PEM certificate file (\(error))")
                }
            } else {
                config.trustRoots = .default
            }
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: config)
        } catch {
            throw StoreError.database("cannot set up TLS for PostgreSQL at \(description): \(error)")
        }
        switch sslMode {
        case .allow, .prefer: return .prefer(context)
        default: return .require(context)
        }
    }
}
