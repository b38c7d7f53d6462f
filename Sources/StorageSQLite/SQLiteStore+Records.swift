import Foundation
import GRDB
@_spi(Unguarded) import Storage

extension SQLiteStore.Connection {
    func record(_ kind: String, _ key: String) throws -> [UInt8]? {
        try Data.fetchOne(db, sql: "SELECT value FROM record WHERE kind = ? AND key = ?", arguments: [kind, key]).map { [UInt8]($0) }
    }

    func records(_ kind: String) throws -> [(key: String, value: [UInt8])] {
        try Row.fetchAll(db, sql: "SELECT key, value FROM record WHERE kind = ? ORDER BY key", arguments: [kind]).map { row in
            let v: Data = row["value"]
            return (key: row["key"], value: [UInt8](v))
        }
    }

    func putRecord(_ kind: String, _ key: String, _ value: [UInt8]?) throws {
        if let value {
            try db.execute(sql: "INSERT INTO record (kind, key, value) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
                           arguments: [kind, key, Data(value)])
        } else {
            try db.execute(sql: "DELETE FROM record WHERE kind = ? AND key = ?", arguments: [kind, key])
        }
    }

    func takeRecord(_ kind: String, _ key: String) throws -> [UInt8]? {
        try Data.fetchOne(db, sql: "DELETE FROM record WHERE kind = ? AND key = ? RETURNING value", arguments: [kind, key]).map { [UInt8]($0) }
    }
}
