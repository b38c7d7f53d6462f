import ArgumentParser
import Foundation
import Server
import Storage

/// `enlace migrate`: applies pending schema migrations (also applied at every start).
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database schema migrations.",
        discussion: """
            PostgreSQL:  enlace migrate --database postgres://user:password@host:5432/db
            SQLite:      enlace migrate --data ./enlace-data
            Safe to run while other nodes are serving: nodes serialize on a lock and skip what is applied.
            """)

    @OptionGroup var data: DataOptions

    func run() async throws {
        var config = ServerConfiguration.fromEnvironment()
        if let d = data.data { config.dataDirectory = d }
        if let d = data.database { config.databaseURL = d }
        let services: EnlaceServices
        do {
            // opening a store applies its pending migrations
            services = try await EnlaceServices.connect(config)
        } catch let StoreError.database(message) {
            fail("enlace migrate: \(message)")
        } catch {
            fail("enlace migrate: \(error)")
        }
        defer { services.close() }
        print("schema up to date: \(config.databaseURL == nil ? "SQLite \(config.databasePath)" : "\(services.door.storeDescription)")")
    }
}
