import ArgumentParser
import FHIR
import Foundation
import Server
import Storage
import StorageSQLite
import Trust

extension DataOptions {
    /// The configuration these options select (environment, then flags), with the base URL a
    /// server serving this data directory recorded (`ServedBaseURL`) unless one was given.
    func configuration() -> ServerConfiguration {
        var config = ServerConfiguration.fromEnvironment()
        if let data { config.dataDirectory = data }
        if let baseURL { config.baseURL = baseURL }
        if let database { config.databaseURL = database }
        ServedBaseURL.apply(to: &config)
        return config
    }

    /// The services over the database these options select: PostgreSQL with `--database`, else
    /// the SQLite database in `--data` (created if missing). The data is reached only through
    /// their door.
    func services() async throws -> EnlaceServices {
        let config = configuration()
        do {
            if config.databaseURL == nil {
                try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            return try await EnlaceServices.connect(config)
        } catch let StoreError.database(message) {
            throw ValidationError("cannot open the database: \(message)")
        } catch let e as ValidationError {
            throw e
        } catch {
            throw ValidationError("cannot open the data directory \(config.dataDirectory): \(error)")
        }
    }

    /// Runs `body` with the identity service of the selected database and closes it afterwards.
    func withIdentity<T>(_ body: (IdentityService) async throws -> T) async throws -> T {
        let services = try await services()
        defer { services.close() }
        return try await body(services.identity)
    }
}

/// Reads one line (the password) from standard input; never from arguments or the environment.
func readPasswordFromStdin() throws -> String {
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw ValidationError("no password on standard input; pipe it in, e.g. `printf '%s\\n' \"$PW\" | enlace users add … --password-stdin`")
    }
    return line
}

/// `enlace users`: people who sign in (patients, related persons, staff).
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the people who sign in: add, list, disable, enable.",
        subcommands: [Add.self, List.self, Disable.self, Enable.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user. The password is read from standard input (--password-stdin).",
            discussion: """
                Roles and the context each needs:
                  patient          --patient Patient/ID
                  related-person   --related-person RelatedPerson/ID --acts-for Patient/A,Patient/B
                  practitioner     --practitioner Practitioner/ID --organization Organization/ID
                  pharmacy, payer, org-admin   --organization Organization/ID
                  privacy-officer, auditor, operator
                Staff roles need a TOTP second factor (--totp) unless the server runs with it off.
                Example: printf '%s\\n' "$PW" | enlace users add --data ./enlace-data --username ana --role patient --patient Patient/123 --password-stdin
                """)

        @OptionGroup var data: DataOptions
        @Option(name: .long, help: "Username (letters, digits, '.', '_', '-', '@').") var username: String
        @Option(name: .long, help: "patient, related-person, practitioner, pharmacy, payer, org-admin, privacy-officer, auditor, operator.") var role: String
        @Option(name: .long, help: "The patient's own Patient (role patient).") var patient: String?
        @Option(name: .long, help: "The user's Practitioner (role practitioner).") var practitioner: String?
        @Option(name: .long, help: "The user's RelatedPerson (role related-person).") var relatedPerson: String?
        @Option(name: .long, help: "Patients a related person acts for, comma separated.") var actsFor: String?
        @Option(name: .long, help: "The organization the user works for.") var organization: String?
        @Flag(name: .long, help: "Read the password from standard input (required).") var passwordStdin = false
        @Flag(name: .long, help: "Create a TOTP second factor and print its secret and otpauth:// URI once.") var totp = false

        func run() async throws {
            guard let role = Principal.Role(rawValue: role), role != .service else {
                throw ValidationError("--role must be one of: " + Principal.Role.allCases.filter { $0 != .service }.map(\.rawValue).joined(separator: ", "))
            }
            guard passwordStdin else { throw ValidationError("passwords are only read from standard input: add --password-stdin and pipe the password in") }
            let password = try readPasswordFromStdin()
            let fhirUser = practitioner ?? relatedPerson ?? (role == .patient ? patient : nil)
            if let practitioner, !practitioner.hasPrefix("Practitioner/") { throw ValidationError("--practitioner must be Practitioner/ID") }
            if let relatedPerson, !relatedPerson.hasPrefix("RelatedPerson/") { throw ValidationError("--related-person must be RelatedPerson/ID") }
            let acts = (actsFor ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let services = try await data.services()
            defer { services.close() }
            let identity = services.identity
            let (user, secret): (User, TOTP?)
            do {
                (user, secret) = try await identity.addUser(username: username, role: role, password: password, fhirUser: fhirUser, patient: patient,
                                                            actsFor: acts, organization: organization, withTOTP: totp)
            } catch let e as IdentityError {
                throw ValidationError(e.description)
            }
            print("added user \(user.username) (role \(user.role))")
            if let secret {
                print("TOTP secret (shown once; enter it in an authenticator app): \(secret.base32)")
                print(secret.uri(account: user.username))
            } else if user.isStaff && identity.requireTOTPForStaff {
                print("warning: \(user.role) users must sign in with a TOTP code; this user has none (add one with --totp)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users (never their secrets).")
        @OptionGroup var data: DataOptions

        func run() async throws {
            let users = try await data.withIdentity { try await $0.users() }
            if users.isEmpty { print("no users"); return }
            for u in users {
                var line = "\(u.username)\t\(u.role)"
                if let f = u.fhirUser { line += "\tfhirUser=\(f)" }
                if let o = u.organization { line += "\torg=\(o)" }
                if !u.actsFor.isEmpty { line += "\tacts-for=\(u.actsFor.joined(separator: ","))" }
                if u.totpSecret != nil { line += "\ttotp" }
                if u.disabled { line += "\tDISABLED" }
                print(line)
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user: no sign-in, no refresh, and their tokens stop working at once.")
        @OptionGroup var data: DataOptions
        @Option(name: .long, help: "Username.") var username: String

        func run() async throws {
            do { try await data.withIdentity { try await $0.setDisabled(username, true) } } catch let e as IdentityError { throw ValidationError(e.description) }
            print("disabled user \(username)")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Re-enable a disabled user.")
        @OptionGroup var data: DataOptions
        @Option(name: .long, help: "Username.") var username: String

        func run() async throws {
            do { try await data.withIdentity { try await $0.setDisabled(username, false) } } catch let e as IdentityError { throw ValidationError(e.description) }
            print("enabled user \(username)")
        }
    }
}
