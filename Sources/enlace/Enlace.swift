import ArgumentParser
import Server

/// `enlace`: the Enlace server and its operator tools.
@main
struct Enlace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enlace",
        abstract: "Enlace — one living FHIR R4 record per patient, with consent, transparency and accountability.",
        discussion: """
            Start a server on embedded SQLite:   enlace serve --data ./enlace-data
            Start a server on PostgreSQL:        enlace serve --data ./enlace-data --database postgres://user:pw@host:5432/db
            Apply schema migrations:             enlace migrate --database postgres://user:pw@host:5432/db
            Get an operator token:               enlace token --data ./enlace-data --scope "system/*.*"
            Add a user (password on stdin):      enlace users add --data ./enlace-data --username ana --role patient --patient Patient/1 --password-stdin
            Register a SMART app:                enlace clients add --data ./enlace-data --client-id app --public --redirect-uri https://app.example/cb --scope "launch/patient patient/*.rs"
            Back up (SQLite, online) and restore: enlace backup --data ./enlace-data --out backup.sqlite; enlace restore --from backup.sqlite --data ./restored
            Environment: ENLACE_HOST, ENLACE_PORT, ENLACE_DATA, ENLACE_DATABASE_URL, ENLACE_BASE_URL, ENLACE_MAX_BODY_BYTES.
            """,
        version: EnlaceVersion.current,
        subcommands: [Serve.self, Migrate.self, Token.self, Users.self, Clients.self, Audit.self, Import.self, Backup.self, Restore.self]
    )
}

/// Options shared by every command that touches a data directory.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "Data directory: the SQLite database and the signing key (env ENLACE_DATA; default ./enlace-data).")
    var data: String?

    @Option(name: .long, help: "PostgreSQL URL postgres://user:password@host:5432/db instead of the embedded SQLite in --data (env ENLACE_DATABASE_URL).")
    var database: String?

    @Option(name: .long, help: "Public FHIR base URL, also the token audience (env ENLACE_BASE_URL; default http://HOST:PORT/fhir).")
    var baseURL: String?
}
