import ArgumentParser
import Crypto
import FHIR
import Foundation
import Server
import Storage
import StorageSQLite
import Trust

/// `enlace audit`: verify and export the tamper-evident audit ledger.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify or export the audit ledger.",
        subcommands: [Verify.self, Export.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the audit ledger's hash chain and Merkle tree and check every signed tree head.",
            discussion: """
                Exits 0 when the ledger verifies, 1 naming the first entry that does not match. With --witness PATH, the
                tree heads in PATH (kept outside the database) are checked too, and the current tree head is appended to
                PATH afterwards, so even a consistent rewrite of the whole database is caught next time.
                """)

        @OptionGroup var data: DataOptions

        @Option(name: .long, help: "A witness file of tree heads kept outside the database (checked, then appended to).")
        var witness: String?

        func run() async throws {
            let services = try await openServices(data)
            defer { services.close() }
            let witnessHeads = try witness.map { try LedgerVerifier.readWitness($0) } ?? []
            let isTTY = isatty(2) != 0
            let report = try await services.door.verifyLedger(witness: witnessHeads) { done, total in
                if isTTY { FileHandle.standardError.write(Data("\rverificando / verifying \(done)/\(total) entries".utf8)) }
            }
            if isTTY { FileHandle.standardError.write(Data("\n".utf8)) }
            guard report.ok else {
                print("FAIL: the audit ledger does not verify / la bitácora de auditoría NO verifica")
                for p in report.problems { print("  - \(p)") }
                throw ExitCode(1)
            }
            print("OK: \(report.entries) entries, \(report.treeHeads) signed tree heads" + (witness != nil ? ", \(report.witnessHeads) witness heads" : "") + " verify")
            if let witness {
                // record the current head in the witness, signing one if the log grew
                if let head = try await services.ledger.signTreeHead() {
                    let line = LedgerVerifier.witnessLine(head) + "\n"
                    if !FileManager.default.fileExists(atPath: witness) { FileManager.default.createFile(atPath: witness, contents: nil) }
                    let h = try FileHandle(forWritingTo: URL(fileURLWithPath: witness))
                    try h.seekToEnd()
                    try h.write(contentsOf: Data(line.utf8))
                    try h.close()
                    print("witness: tree head of size \(head.treeSize) appended to \(witness)")
                }
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write every AuditEvent of the ledger as NDJSON (id = ledger index).")

        @OptionGroup var data: DataOptions

        @Option(name: .long, help: "Output file (default: standard output).")
        var out: String?

        func run() async throws {
            let services = try await openServices(data)
            defer { services.close() }
            let operatorPrincipal = Principal(subject: "operator (enlace audit export)", scopes: ScopeSet("system/AuditEvent.rs"), tokenID: "cli-audit-export",
                                              role: .platformOperator, clientID: "enlace-cli")
            let log = try services.door.auditLog(for: operatorPrincipal, audit: nil, everything: true)
            let size = try await log.size()
            var handle = FileHandle.standardOutput
            if let out {
                FileManager.default.createFile(atPath: out, contents: nil)
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            }
            var start: Int64 = 0
            while start < size {
                let from = start, end = min(start + 5000, size)
                let records = try await log.range(start: from, end: end)
                var chunk = Data()
                for r in records {
                    let event = (try? JSONParser.parse(r.bytes))?.inserting("id", .string(String(r.index)), after: "resourceType")
                    chunk.append(contentsOf: event?.serialized() ?? r.bytes)
                    chunk.append(0x0A)
                }
                try handle.write(contentsOf: chunk)
                start = end
                if out != nil { FileHandle.standardError.write(Data("\rexported \(start)/\(size)".utf8)) }
            }
            if out != nil { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }
}

func dataDirectory(_ data: DataOptions) -> String {
    data.data ?? ServerConfiguration.fromEnvironment().dataDirectory
}

/// Opens the services for offline tools: PostgreSQL with `--database`, else the SQLite database
/// of the data directory — refusing to create a new one.
func openServices(_ data: DataOptions) async throws -> EnlaceServices {
    let config = data.configuration()
    if config.databaseURL == nil, !FileManager.default.fileExists(atPath: config.databasePath) {
        throw ValidationError("no Enlace database at \(config.databasePath) / no hay base de datos de Enlace en \(config.databasePath)")
    }
    return try await data.services()
}
