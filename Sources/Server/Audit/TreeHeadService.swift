import FHIR
import Foundation
import Logging
import ServiceLifecycle
import Storage
import Trust

/// Signs a tree head at least every second while the audit log grows (RFC 9162 §4.10 in spirit),
/// and — with `ServerConfiguration.witnessPath` (`enlace serve --witness PATH`) — publishes the
/// newest one to a witness file outside the database every `witnessInterval` seconds when the
/// log has grown since the last one published (docs/audit.md, "Witness"). The file has the format
/// `enlace audit verify --witness` checks: one JSON tree head per line, appended and fsync'd.
/// Put it where the database's administrators cannot rewrite it (another host's mount, a
/// write-once bucket synced by an agent): a ledger rewritten later no longer matches it.
struct TreeHeadService: Service {
    let ledger: AuditLedger
    let logger: Logger
    var interval: Duration = .seconds(1)
    var witnessPath: String?
    var witnessInterval: Double = 60

    func run() async throws {
        _ = try? await ledger.sync()
        var published = witnessPath.flatMap { try? LedgerVerifier.readWitness($0).last?.treeSize } ?? 0
        var lastPublish = Date.distantPast
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await ledger.signTreeHead()
            } catch {
                logger.error("signing the audit tree head failed", metadata: ["error": "\((error as? StoreError).map { "\($0)" } ?? "\(type(of: error))")"])
            }
            if witnessPath != nil, Date().timeIntervalSince(lastPublish) >= witnessInterval {
                lastPublish = Date()
                published = await publish(after: published)
            }
            try? await Task.sleep(for: interval)
        }
        _ = try? await ledger.signTreeHead()
        if witnessPath != nil { _ = await publish(after: published) }
    }

    /// Appends the newest signed tree head to the witness file when it covers more than `size`
    /// entries; returns the size now published. A failure is logged and retried next interval.
    func publish(after size: Int64) async -> Int64 {
        guard let path = witnessPath else { return size }
        do {
            guard let head = try await ledger.latestTreeHead(), head.treeSize > size else { return size }
            try TreeHeadService.append(LedgerVerifier.witnessLine(head) + "\n", to: path)
            return head.treeSize
        } catch {
            logger.error("publishing the tree head to the witness failed", metadata: ["witness": "\(path)", "error": "\(error)"])
            return size
        }
    }

    /// Appends `line` to `path` (created 0600 if missing) and waits until it is on disk.
    static func append(_ line: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(fd) }
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else { throw CocoaError(.fileWriteOutOfSpace, userInfo: [NSFilePathErrorKey: path]) }
    }
}
