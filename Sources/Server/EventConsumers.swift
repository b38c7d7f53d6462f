import Foundation
import Logging
import ServiceLifecycle
import Trust

/// Runs the domains' outbox consumers (docs/architecture.md, "The event outbox") for as long as
/// the server runs: each consumer catches up, then all wait for the next committed write (or a
/// second, so writes of other nodes on the same database are noticed too). A consumer that fails
/// is retried with a growing pause (up to a minute) and logged without any patient data; its
/// cursor stays where it was, so nothing is skipped.
struct EventConsumersService: Service {
    let door: Door
    let consumers: [any EventConsumer]
    let logger: Logger
    var poll: Double = 1.0

    func run() async throws {
        // a service that returns ends the whole server: with nothing to run, wait for shutdown
        guard !consumers.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        var pause: [String: (until: Date, seconds: Double)] = [:]
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            for consumer in consumers {
                // a pass over every consumer can take long when the database is unwell: stop between consumers
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                if let p = pause[consumer.name], p.until > Date() { continue }
                do {
                    // up to 20 batches of 200, checking for shutdown between batches: a consumer
                    // with a long backlog (after a bulk import) must not keep SIGTERM waiting
                    for _ in 0..<20 {
                        if Task.isCancelled || Task.isShuttingDownGracefully { break }
                        if try await door.consume(consumer, limit: 200) == 0 { break }
                    }
                    pause[consumer.name] = nil
                } catch {
                    let seconds = min(60, (pause[consumer.name]?.seconds ?? 0.5) * 2)
                    pause[consumer.name] = (Date().addingTimeInterval(seconds), seconds)
                    logger.error("outbox consumer failed; retrying", metadata: ["consumer": "\(consumer.name)", "error": "\(type(of: error))",
                                                                               "retry_in_s": "\(seconds)"])
                }
            }
            await door.writes.wait(timeout: poll)
        }
    }
}
