import Foundation
@_spi(Unguarded) import Storage
@testable import StoragePostgres
import Testing

/// The PostgreSQL circuit breaker (docs/reliability.md, "Circuit breaker"), on a clock the test
/// moves; and, on the test database (ENLACE_TEST_DATABASE_URL), that a store whose breaker is
/// open fails at once with `StoreError.unavailable`.
@Suite("PostgreSQL circuit breaker")
struct PostgresCircuitBreakerTests {
    final class TestClock: @unchecked Sendable {
        private let lock = NSLock()
        private var time = Date(timeIntervalSince1970: 1_800_000_000)
        func advance(_ seconds: TimeInterval) { lock.withLock { time = time.addingTimeInterval(seconds) } }
        var now: @Sendable () -> Date { { self.lock.withLock { self.time } } }
    }

    @Test func opensAfterTheThresholdAndOnlyThen() {
        let clock = TestClock()
        let breaker = CircuitBreaker(threshold: 3, initialCooldown: 1, maxCooldown: 8, now: clock.now)
        breaker.failed()
        breaker.failed()
        #expect(breaker.admit() == nil)
        breaker.succeeded()  // an answer resets the count
        breaker.failed()
        breaker.failed()
        #expect(breaker.admit() == nil)
        breaker.failed()
        #expect(breaker.admit() == 1)
        #expect(breaker.current == .open(until: clock.now().addingTimeInterval(1), cooldown: 1))
    }

    @Test func oneProbeAtATimeThenClosesOnSuccess() {
        let clock = TestClock()
        let breaker = CircuitBreaker(threshold: 1, initialCooldown: 2, maxCooldown: 8, now: clock.now)
        breaker.failed()
        #expect(breaker.admit() == 2)
        clock.advance(1.2)
        #expect(breaker.admit() == 1)  // 0.8 s left, rounded up
        clock.advance(1)
        #expect(breaker.admit() == nil)  // the probe
        #expect(breaker.admit() != nil)  // everyone else while it is in flight
        breaker.succeeded()
        #expect(breaker.admit() == nil)
        #expect(breaker.current == .closed(failures: 0))
    }

    @Test func aFailedProbeDoublesTheCooldownUpToItsLimit() {
        let clock = TestClock()
        let breaker = CircuitBreaker(threshold: 1, initialCooldown: 1, maxCooldown: 4, now: clock.now)
        breaker.failed()
        var cooldowns: [TimeInterval] = []
        for _ in 0..<4 {
            guard case .open(let until, let cooldown) = breaker.current else {
                Issue.record("expected open, got \(breaker.current)")
                return
            }
            cooldowns.append(cooldown)
            clock.advance(until.timeIntervalSince(clock.now()))
            #expect(breaker.admit() == nil)
            breaker.failed()
        }
        #expect(cooldowns == [1, 2, 4, 4])
    }

    @Test func anAbandonedProbeLetsTheNextRequestProbe() {
        let clock = TestClock()
        let breaker = CircuitBreaker(threshold: 1, initialCooldown: 1, maxCooldown: 8, now: clock.now)
        breaker.failed()
        clock.advance(1)
        #expect(breaker.admit() == nil)
        breaker.abandoned()  // e.g. no free connection: the database was never asked
        #expect(breaker.admit() == nil)
        #expect(breaker.admit() != nil)
    }

    @Test func anOpenBreakerFailsTheStoreAtOnce() async throws {
        guard let url = ProcessInfo.processInfo.environment["ENLACE_TEST_DATABASE_URL"] else { return }
        let store = try await PostgresStore(url: url, connectTimeout: .seconds(1))
        defer { store.close() }
        // as after `threshold` failed connections or timed-out queries in a row
        for _ in 0..<store.pool.breaker.threshold { store.pool.breaker.failed() }
        let opened = store.pool.condition.withLock { store.pool.open }
        do {
            _ = try await store.read { _ in 1 }
            Issue.record("a read went through an open breaker")
        } catch StoreError.unavailable(let message, let seconds) {
            #expect(seconds >= 1)
            #expect(message.contains("circuit breaker"))
            #expect(!message.contains(store.endpoint.password ?? "\u{0}"))
        }
        // the database was not asked: no connection was opened for it (not a timing: CI is loaded)
        #expect(store.pool.condition.withLock { store.pool.open } == opened)
    }
}
