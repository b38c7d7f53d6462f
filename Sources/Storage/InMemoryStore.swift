import FHIR
import Synchronization

/// A store in memory, for tests and as the reference behaviour the conformance suite pins
/// down. Not durable. Transactions are serialized and applied all-or-nothing.
public final class InMemoryStore: ResourceStore {
    struct State: Sendable {
        var versions: [HistoryEntry] = []  // in sequence order
        var current: [String: Int] = [:]   // "type/id" → index into versions
        var index: [String: [IndexEntry]] = [:]
        var nextSequence: Int64 = 1
    }

    private let state = Mutex(State())

    public init() {}

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        let snapshot = state.withLock { $0 }
        return try body(Transaction(state: snapshot))
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try state.withLock { s in
            let tx = Transaction(state: s)
            let result = try body(tx)
            s = tx.state
            return result
        }
    }

    final class Transaction: StoreTransaction {
        var state: State
        init(state: State) { self.state = state }

        func current(_ type: String, _ id: String) throws -> StoredResource? {
            state.current["\(type)/\(id)"].map { state.versions[$0].resource }
        }

        func version(_ type: String, _ id: String, _ version: Int) throws -> StoredResource? {
            state.versions.first { $0.resource.type == type && $0.resource.id == id && $0.resource.version == version }?.resource
        }

        private func inScope(_ e: HistoryEntry, _ scope: HistoryScope, _ since: Timestamp?) -> Bool {
            if let since, e.resource.lastUpdated < since { return false }
            switch scope {
            case .system: return true
            case .type(let t): return e.resource.type == t
            case .instance(let t, let id): return e.resource.type == t && e.resource.id == id
            }
        }

        func history(_ query: HistoryQuery) throws -> [HistoryEntry] {
            Array(state.versions.reversed().lazy
                .filter { query.beforeSequence == nil || $0.sequence < query.beforeSequence! }
                .filter { self.inScope($0, query.scope, query.since) }
                .prefix(query.count))
        }

        func historyCount(_ scope: HistoryScope, since: Timestamp?) throws -> Int {
            state.versions.filter { inScope($0, scope, since) }.count
        }

        func find(_ type: String, tokens: [TokenMatch], limit: Int) throws -> [String] {
            var out: [String] = []
            for (key, i) in state.current.sorted(by: { $0.key < $1.key }) {
                let r = state.versions[i].resource
                guard r.type == type, !r.deleted else { continue }
                let rows = state.index[key] ?? []
                let ok = tokens.allSatisfy { t in
                    rows.contains { $0.parameter == t.parameter && $0.kind == .token
                        && (t.system == nil || $0.system == t.system) && (t.code == nil || $0.value == t.code) }
                }
                if ok { out.append(r.id) }
                if out.count >= limit { break }
            }
            return out
        }

        func put(_ resource: StoredResource, index: [IndexEntry]) throws {
            let key = "\(resource.type)/\(resource.id)"
            if try version(resource.type, resource.id, resource.version) != nil {
                throw StoreError.versionConflict(type: resource.type, id: resource.id, version: resource.version)
            }
            state.versions.append(HistoryEntry(sequence: state.nextSequence, resource: resource))
            state.nextSequence += 1
            state.current[key] = state.versions.count - 1
            state.index[key] = index
        }
    }
}
