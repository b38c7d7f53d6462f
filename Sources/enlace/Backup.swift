import ArgumentParser
import Crypto
import FHIR
import Foundation
import Server
import Storage
import Trust

/// `enlace backup` and `enlace restore` (docs/reliability.md, "Backups"): an online copy of the
/// SQLite database with a signed manifest, and a restore that refuses a copy that was changed
/// and checks the restored ledger against the tree heads signed before the backup.
///
/// The manifest (`FILE.manifest.json`) holds the copy's size and SHA-256, the newest signed tree
/// head inside it, and an ES256 signature over all of that with the server's signing key. The
/// key itself is not in the backup: keep `signing-key.pem` (owner-only) apart, as its own secret.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the SQLite database online, with a signed manifest (PostgreSQL: see docs/reliability.md).",
        discussion: """
            Writes FILE (a consistent SQLite snapshot taken while the server runs) and FILE.manifest.json (size, SHA-256,
            the newest signed tree head, signed with the server's key). With --witness PATH the tree head is appended to PATH
            too, so the copy can later be checked against a record kept elsewhere. The signing key is not copied: back up
            signing-key.pem separately and keep it as secret as the data.
            """)

    @OptionGroup var data: DataOptions

    @Option(name: .long, help: "The backup file to write (must not exist).")
    var out: String

    @Option(name: .long, help: "A witness file of tree heads to append the backup's tree head to.")
    var witness: String?

    func run() async throws {
        if data.database != nil || ServerConfiguration.fromEnvironment().databaseURL != nil && data.data == nil {
            throw ValidationError("enlace backup copies the embedded SQLite database; for PostgreSQL use pg_dump or a base backup and `enlace audit verify --database … --witness …` (docs/reliability.md)")
        }
        guard !FileManager.default.fileExists(atPath: out) else { throw ValidationError("\(out) already exists / ya existe") }
        let services = try await openServices(data)
        defer { services.close() }
        // sign a tree head over everything so far (the copy then holds it), then copy
        _ = try await services.ledger.signTreeHead()
        guard let before = try await services.ledger.latestTreeHead() else {
            throw ValidationError("the ledger has no signed tree head yet / la bitácora aún no tiene una cabeza de árbol firmada")
        }
        do {
            try services.backupDatabase(to: out)
        } catch let StoreError.database(message) {
            throw ValidationError(message)
        }
        let manifest = try BackupManifest.make(file: out, treeHead: before, key: services.key)
        try Data(manifest.serialized()).write(to: URL(fileURLWithPath: BackupManifest.path(for: out)))
        if let witness { try BackupManifest.appendWitness(witness, before) }
        print("OK: backup \(out), tree head of size \(before.treeSize) signed \(before.timestamp); manifest \(BackupManifest.path(for: out))")
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup made by `enlace backup` into a data directory, after checking it.",
        discussion: """
            Refuses the backup unless its manifest's signature verifies with the signing key (in --data, or --key), its size
            and SHA-256 match, and the restored ledger verifies: every entry's hash chain, every signed tree head, the tree
            head recorded at backup time and those of --witness up to the backup's size. Only then is it moved into place
            (an existing database needs --force and is kept as enlace.sqlite.before-restore).
            """)

    @Option(name: .long, help: "The backup file (its manifest FILE.manifest.json beside it).")
    var from: String

    @Option(name: .long, help: "The data directory to restore into (env ENLACE_DATA; default ./enlace-data).")
    var data: String?

    @Option(name: .long, help: "The signing key (signing-key.pem) to check with and install, if --data has none.")
    var key: String?

    @Option(name: .long, help: "A witness file of tree heads kept outside the database.")
    var witness: String?

    @Flag(name: .long, help: "Replace an existing database (kept as enlace.sqlite.before-restore).")
    var force = false

    func run() async throws {
        let fm = FileManager.default
        let directory = data ?? ServerConfiguration.fromEnvironment().dataDirectory
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let keyPath = (directory as NSString).appendingPathComponent(SigningKey.fileName)
        if let key {
            guard !fm.fileExists(atPath: keyPath) else { throw ValidationError("\(keyPath) exists; drop --key to use it") }
            try fm.copyItem(atPath: key, toPath: keyPath)
            try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyPath)
        }
        guard fm.fileExists(atPath: keyPath) else {
            throw ValidationError("no signing key at \(keyPath): pass --key with the server's signing-key.pem / falta la llave de firma")
        }
        let signingKey = try SigningKey.loadOrCreate(in: directory)
        var config = ServerConfiguration.fromEnvironment()
        config.dataDirectory = directory
        config.databaseURL = nil
        guard force || !fm.fileExists(atPath: config.databasePath) else {
            throw ValidationError("\(config.databasePath) exists; pass --force to replace it / ya existe una base de datos")
        }
        // 1. the manifest: signed by this key, and the file is the one it describes
        let head: TreeHead
        do {
            head = try BackupManifest.check(file: from, key: signingKey)
        } catch let e as BackupManifest.Refusal {
            print("REFUSED: \(e.description)")
            throw ExitCode(1)
        }
        // 2. the ledger of a copy, in a scratch directory beside the data
        let scratch = (directory as NSString).appendingPathComponent(".restore-\(UUID().uuidString.lowercased())")
        try fm.createDirectory(atPath: scratch, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? fm.removeItem(atPath: scratch) }
        try fm.copyItem(atPath: keyPath, toPath: (scratch as NSString).appendingPathComponent(SigningKey.fileName))
        var scratchConfig = config
        scratchConfig.dataDirectory = scratch
        try fm.copyItem(atPath: from, toPath: scratchConfig.databasePath)
        let witnessHeads = try witness.map { try LedgerVerifier.readWitness($0) } ?? []
        let covered = witnessHeads.filter { $0.treeSize <= head.treeSize }
        let report = try await Restore.verify(scratchConfig, witness: [head] + covered)
        guard report.ok else {
            print("REFUSED: the backup's audit ledger does not verify / la bitácora de la copia NO verifica")
            for p in report.problems { print("  - \(p)") }
            throw ExitCode(1)
        }
        // 3. into place
        if fm.fileExists(atPath: config.databasePath) {
            let kept = config.databasePath + ".before-restore"
            try? fm.removeItem(atPath: kept)
            try fm.moveItem(atPath: config.databasePath, toPath: kept)
            for suffix in ["-wal", "-shm"] { try? fm.removeItem(atPath: config.databasePath + suffix) }
        }
        for suffix in ["", "-wal", "-shm"] where fm.fileExists(atPath: scratchConfig.databasePath + suffix) {
            try fm.moveItem(atPath: scratchConfig.databasePath + suffix, toPath: config.databasePath + suffix)
        }
        let later = witnessHeads.count - covered.count
        print("OK: restored \(from) into \(config.databasePath): \(report.entries) entries, \(report.treeHeads) signed tree heads and \(covered.count + 1) heads signed before the backup verify"
              + (later > 0 ? "; the witness holds \(later) later tree heads — the entries after \(head.treeSize) are not in this backup" : ""))
    }

    /// Opens the copy, verifies its ledger, and lets go of it before the files are moved.
    static func verify(_ config: ServerConfiguration, witness: [TreeHead]) async throws -> LedgerVerifier.Report {
        let services = try EnlaceServices.open(config)
        defer { services.close() }
        return try await services.door.verifyLedger(witness: witness)
    }
}

/// The signed description of a backup file.
enum BackupManifest {
    static let format = "enlace-backup-v1"

    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    static func path(for file: String) -> String { file + ".manifest.json" }

    static func sha256(_ path: String) throws -> (hex: String, bytes: Int) {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var hash = SHA256()
        var total = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hash.update(data: chunk)
            total += chunk.count
        }
        return (hash.finalize().map { String(format: "%02x", $0) }.joined(), total)
    }

    /// What the signature covers: every field but the signature, in this order.
    static func fields(file: String, sha: String, bytes: Int, treeHead: TreeHead, keyID: String) -> [(String, JSON)] {
        [("format", .string(format)), ("file", .string((file as NSString).lastPathComponent)), ("bytes", .number(String(bytes))),
         ("sha256", .string(sha)), ("keyID", .string(keyID)), ("treeHead", TreeHeadJSON.encode(treeHead))]
    }

    static func make(file: String, treeHead: TreeHead, key: SigningKey) throws -> JSON {
        let (sha, bytes) = try sha256(file)
        let body = fields(file: file, sha: sha, bytes: bytes, treeHead: treeHead, keyID: key.keyID)
        let signature = try key.privateKey.signature(for: Data(JSON.object(body).serialized()))
        return .object(body + [("signature", .string(Data(signature.rawRepresentation).base64EncodedString()))])
    }

    /// The tree head of a backup whose manifest verifies with `key` and describes `file`
    /// exactly; throws `Refusal` saying what does not hold.
    static func check(file: String, key: SigningKey) throws -> TreeHead {
        guard FileManager.default.fileExists(atPath: file) else { throw Refusal(description: "no backup at \(file)") }
        guard let raw = FileManager.default.contents(atPath: path(for: file)), let manifest = try? JSONParser.parse([UInt8](raw)) else {
            throw Refusal(description: "no readable manifest at \(path(for: file)); a backup without its signed manifest is not restored")
        }
        guard manifest["format"]?.stringValue == format else { throw Refusal(description: "the manifest is not \(format)") }
        guard manifest["keyID"]?.stringValue == key.keyID else {
            throw Refusal(description: "the manifest was signed by key \(manifest["keyID"]?.stringValue ?? "?"), not this data directory's key \(key.keyID)")
        }
        guard case let .number(n)? = manifest["bytes"], let bytes = Int(n), let sha = manifest["sha256"]?.stringValue,
              let head = manifest["treeHead"].flatMap(treeHead),
              let sig = manifest["signature"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
              let signature = try? P256.Signing.ECDSASignature(rawRepresentation: sig) else {
            throw Refusal(description: "the manifest is incomplete")
        }
        let body = fields(file: manifest["file"]?.stringValue ?? "", sha: sha, bytes: bytes, treeHead: head, keyID: key.keyID)
        let signed = JSON.object(body).serialized()
        guard key.privateKey.publicKey.isValidSignature(signature, for: Data(signed)) else {
            throw Refusal(description: "the manifest's signature does not verify: it was changed")
        }
        let actual = try sha256(file)
        guard actual.bytes == bytes, actual.hex == sha else {
            throw Refusal(description: "the backup file does not match its manifest (size \(actual.bytes) vs \(bytes), SHA-256 \(actual.hex.prefix(16))… vs \(sha.prefix(16))…): it was changed or is incomplete")
        }
        return head
    }

    static func appendWitness(_ path: String, _ head: TreeHead) throws {
        let line = LedgerVerifier.witnessLine(head) + "\n"
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data(line.utf8))
    }
}

extension BackupManifest {
    /// A tree head in the JSON form of `TreeHeadJSON` (the witness file's lines).
    static func treeHead(_ json: JSON) -> TreeHead? {
        guard case let .number(size)? = json["treeSize"], let n = Int64(size),
              let root = json["rootHash"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
              let sig = json["signature"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
              let ts = json["timestamp"]?.stringValue.flatMap(Timestamp.init(instant:)) else { return nil }
        return TreeHead(treeSize: n, rootHash: [UInt8](root), timestamp: ts, signature: [UInt8](sig))
    }
}
