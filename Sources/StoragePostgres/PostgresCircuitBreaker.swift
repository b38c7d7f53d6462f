import Foundation
import NIOConcurrencyHelpers

/// Stops a node from queueing every request behind a database that does not answer
/// (docs/reliability.md, "Circuit breaker").
///
/// Closed: every request goes to PostgreSQL. After `threshold` connection-level failures in a
/// row (cannot connect, the query timed out, the connection was lost — not SQL errors, which
/// prove the database answers) it opens: for `cooldown` every request fails at once with
/// `StoreError.unavailable` instead of waiting out its own `query_timeout`. Then one request is
/// let through as a probe (half-open): if it succeeds the breaker closes; if it fails the breaker
/// opens again for twice as long, up to `maxCooldown`. The background services' reads are
/// requests like any other, so the breaker closes by itself once PostgreSQL is back.
final class CircuitBreaker: Sendable {
    enum State: Equatable, Sendable {
        case closed(failures: Int)
        case open(until: Date, cooldown: TimeInterval)
        /// One probe is in flight; `cooldown` is the one to double if it fails.
        case halfOpen(cooldown: TimeInterval)
    }

    let threshold: Int
    let initialCooldown: TimeInterval
    let maxCooldown: TimeInterval
    let now: @Sendable () -> Date
    private let state = NIOLockedValueBox(State.closed(failures: 0))

    init(threshold: Int = 3, initialCooldown: TimeInterval = 1, maxCooldown: TimeInterval = 8, now: @escaping @Sendable () -> Date = Date.init) {
        self.threshold = max(1, threshold)
        self.initialCooldown = initialCooldown
        self.maxCooldown = max(initialCooldown, maxCooldown)
        self.now = now
    }

    var current: State { state.withLockedValue { $0 } }

    /// Whether a request may go to the database now; nil if so, otherwise how many seconds
    /// (at least 1) until the next probe.
    func admit() -> Int? {
        let t = now()
        return state.withLockedValue { s -> Int? in
            switch s {
            case .closed:
                return nil
            case .open(let until, let cooldown):
                if t >= until {
                    s = .halfOpen(cooldown: cooldown)
                    return nil
                }
                return max(1, Int(until.timeIntervalSince(t).rounded(.up)))
            case .halfOpen(let cooldown):
                return max(1, Int(cooldown.rounded(.up)))
            }
        }
    }

    /// The database answered (even with an SQL error).
    func succeeded() {
        state.withLockedValue { s in
            if s != .closed(failures: 0) { s = .closed(failures: 0) }
        }
    }

    /// An admitted request ended before reaching the database (no free connection, store
    /// closed): if it was the probe, the next request probes instead.
    func abandoned() {
        let t = now()
        state.withLockedValue { s in
            if case .halfOpen(let cooldown) = s { s = .open(until: t, cooldown: cooldown) }
        }
    }

    /// The database could not be reached or did not answer in time.
    func failed() {
        let t = now()
        state.withLockedValue { s in
            switch s {
            case .closed(let failures):
                s = failures + 1 >= threshold ? .open(until: t.addingTimeInterval(initialCooldown), cooldown: initialCooldown) : .closed(failures: failures + 1)
            case .halfOpen(let cooldown):
                let next = min(maxCooldown, cooldown * 2)
                s = .open(until: t.addingTimeInterval(next), cooldown: next)
            case .open:
                break  // a request admitted before the breaker opened
            }
        }
    }
}
