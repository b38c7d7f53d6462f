/// Serializes, within one server process, the financing operations that read the ledger and then
/// write to it (`Claim/$submit`, `$settle`, `$resolve`, `$correct`): through the gate each reads
/// what the others of the process wrote, so they rarely collide. Correctness does **not** depend
/// on it (docs/financing.md, "Races"): what an operation assumed from its earlier read is
/// re-checked in the write's own transaction by `LedgerFence`, which also holds across server
/// nodes sharing one database and for the `financing.claims` consumer (which writes outside the
/// gate); a failed check is retried by the service (`FinancingService.fenced`). Each server
/// application has its own gate (`EnlaceServices.financing`); `shared` is the default of a
/// `FinancingService` built without one.
public actor FinancingWriteGate {
    public static let shared = FinancingWriteGate()

    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

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

    /// Runs `body` alone among the gated operations of this gate.
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
