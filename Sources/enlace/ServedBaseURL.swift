import FHIR
import Foundation
import Server

/// The FHIR base URL a running `serve` answers at — the audience of its tokens — recorded in
/// its data directory (`served.json`) so that `token`, `users`, `clients` and the other
/// commands given the same `--data` make tokens and URLs for that server without repeating
/// `--port` or `--base-url`. Explicit `--base-url`, `--host`, `--port` and `ENLACE_BASE_URL`
/// still win.
enum ServedBaseURL {
    static let fileName = "served.json"

    static func path(in directory: String) -> String { (directory as NSString).appendingPathComponent(fileName) }

    /// Written by `serve` once the data directory is open (replacing an older record).
    static func record(_ config: ServerConfiguration) throws {
        let json = JSON.object([
            ("fhirBase", .string(config.fhirBase)),
            ("recordedBy", .string("enlace serve \(EnlaceVersion.current), pid \(ProcessInfo.processInfo.processIdentifier)")),
        ])
        try Data(json.prettySerialized()).write(to: URL(fileURLWithPath: path(in: config.dataDirectory)), options: .atomic)
    }

    /// The base URL `serve` last recorded in `directory`, if any.
    static func recorded(in directory: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path(in: directory)),
              let json = try? JSONParser.parse(Array(data)), let base = json["fhirBase"]?.stringValue, !base.isEmpty else { return nil }
        return base
    }

    /// `config` with the recorded base URL, unless the base URL was chosen explicitly (a flag
    /// or `ENLACE_BASE_URL`) or `explicitHostOrPort`.
    static func apply(to config: inout ServerConfiguration, explicitHostOrPort: Bool = false,
                      environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard config.baseURL == nil, environment["ENLACE_BASE_URL"] == nil, !explicitHostOrPort,
              let recorded = recorded(in: config.dataDirectory) else { return }
        config.baseURL = recorded
    }
}
