/// Serializes the financing operations that read the ledger and then write to it (`Claim/$submit`,
/// `$settle`, `$resolve`) within one server process (docs/financing.md, "Races"): the deductible
/// already met and the settled periods are read before the writing transaction, so two such
/// operations at once could both use the same remaining deductible, or a claim could land in a
/// period being settled. Through the gate each reads what the other wrote. It does not reach
/// across server nodes sharing one PostgreSQL database (said in the docs).
actor FinancingWriteGate {
    static let shared = FinancingWriteGate()

    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }

    /// Runs `body` alone among the gated operations of this process.
    nonisolated func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        do {
            let out = try await body()
            await release()
            return out
        } catch {
            await release()
            throw error
        }
    }
}
