import ArgumentParser
import Foundation
import Server
import Trust

/// `enlace clients`: SMART apps and backend services.
struct Clients: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage SMART apps (public, PKCE) and backend services (private_key_jwt).",
        subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a client.",
            discussion: """
                A public SMART app (authorization code + PKCE):
                  enlace clients add --data DIR --client-id app --public --redirect-uri https://app.example/cb \\
                    --scope "openid fhirUser launch/patient offline_access patient/*.rs"
                A backend service (client credentials with a private_key_jwt signed ES384 or RS384):
                  enlace clients add --data DIR --client-id lab --jwks-file lab-jwks.json --scope "system/Observation.cruds"
                """)

        @OptionGroup var data: DataOptions
        @Option(name: .long, help: "Client id.") var clientID: String
        @Option(name: .long, help: "Display name shown on the approval page (default: the client id).") var name: String?
        @Option(name: .long, help: "Exact redirect URI (repeat for more).") var redirectURI: [String] = []
        @Flag(name: .long, help: "A public client (no secret; PKCE S256 required).") var `public` = false
        @Option(name: .long, help: "JWK Set file with the client's public keys (EC P-384 / RSA) for private_key_jwt.") var jwksFile: String?
        @Option(name: .long, help: "Scopes the client may be granted, space separated.") var scope: String

        func run() async throws {
            guard `public` != (jwksFile != nil) else { throw ValidationError("choose exactly one of --public or --jwks-file FILE") }
            var jwks: String?
            if let jwksFile {
                guard let text = try? String(contentsOfFile: jwksFile, encoding: .utf8) else { throw ValidationError("cannot read --jwks-file \(jwksFile)") }
                jwks = text
            }
            let client = OAuthClient(clientID: clientID, name: name ?? clientID, redirectURIs: redirectURI, scope: scope, jwks: jwks)
            do { try await data.withIdentity { try await $0.addClient(client) } } catch let e as IdentityError { throw ValidationError(e.description) }
            print("added \(client.isPublic ? "public" : "confidential") client \(clientID)")
            let c = data.configuration()
            print("authorize: \(c.oauthBase)/oauth/authorize  token: \(c.tokenURL)  aud: \(c.fhirBase)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered clients.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            let clients = try await data.withIdentity { try await $0.clients() }
            if clients.isEmpty { print("no clients"); return }
            for c in clients {
                print("\(c.clientID)\t\(c.isPublic ? "public" : "confidential")\t\(c.name)\tscope=\(c.scope)\tredirect=\(c.redirectURIs.joined(separator: ","))\(c.disabled ? "\tDISABLED" : "")")
            }
        }
    }
}
