import Foundation
import GRDB
import Storage

extension SQLiteStore {
    /// Copies the database, online, into a new file at `path` with SQLite's backup API
    /// (https://www.sqlite.org/backup.html): the copy is one consistent snapshot, read on a
    /// reader connection while writers go on (WAL). Throws `StoreError.database` if `path`
    /// exists or cannot be written. `enlace backup` (docs/reliability.md, "Backups").
    public func backup(to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw StoreError.database("\(path) already exists") }
        do {
            let destination = try DatabaseQueue(path: path)
            try writer.backup(to: destination)
            // the copy is a plain file (no -wal beside it) so it can be moved and hashed alone
            try destination.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = DELETE") }
            try destination.close()
        } catch {
            throw StoreError.database("cannot back up the SQLite database to \(path): \(error)")
        }
    }
}
