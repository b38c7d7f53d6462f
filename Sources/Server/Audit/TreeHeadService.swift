import Foundation
import Logging
import ServiceLifecycle
import Trust

/// Signs a tree head at least every second while the audit log grows (RFC 9162 §4.10 in spirit).
struct TreeHeadService: Service {
    let ledger: AuditLedger
    let logger: Logger
    var interval: Duration = .seconds(1)

    func run() async throws {
        _ = try? await ledger.sync()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await ledger.signTreeHead()
            } catch {
                logger.error("signing the audit tree head failed", metadata: ["error": "\(type(of: error))"])
            }
            try? await Task.sleep(for: interval)
        }
        _ = try? await ledger.signTreeHead()
    }
}
