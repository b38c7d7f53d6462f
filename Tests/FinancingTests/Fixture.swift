import FHIR
import Foundation
@testable import Financing
import StorageSQLite
import Testing
import Trust

/// A door over a fresh in-memory SQLite store (with `LedgerFence`), with the sample plans, two institutions with a
/// clinic each, a private insurer and a few patients with their coverages.
struct FinancingFixture {
    let door: Door
    let operatorPrincipal = Principal(subject: "test-operator", scopes: ScopeSet("system/*.cruds"), tokenID: "t")
    static let now = Timestamp(instant: "2026-11-24T12:00:00Z")!

    struct FixedClock: Clock { func now() -> Timestamp { FinancingFixture.now } }

    init() async throws {
        let dir = NSTemporaryDirectory() + "enlace-financing-" + UUID().uuidString
        // the key is read into memory: nothing needs to stay behind in the temporary directory
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // the ledger's own rule, as the server has it: every flow here must pass it
        var settings = Door.Settings()
        settings.writeRules = [LedgerFence()]
        door = Door(store: try SQLiteStore(), key: try SigningKey.loadOrCreate(in: dir), settings: settings, clock: FixedClock())
        var resources: [JSON] = BenefitPlan.samples
        for (id, name, partOf) in [("imss", "Instituto Mexicano del Seguro Social", nil), ("issste", "ISSSTE", nil),
                                   ("imss-bienestar", "IMSS-Bienestar", nil), ("seguros-vida-plena", "Seguros Vida Plena", nil),
                                   ("imss-umf-20", "IMSS UMF 20", "imss"), ("issste-cmf-tlalpan", "ISSSTE CMF Tlalpan", "issste"),
                                   ("hospital-santa-fe", "Hospital Santa Fe", nil)] as [(String, String, String?)] {
            resources.append(J.o(("resourceType", .string("Organization")), ("id", .string(id)), ("active", .bool(true)), ("name", .string(name)),
                                 ("partOf", partOf.map { J.ref("Organization/\($0)") })))
        }
        for p in ["p1", "p2", "p3", "p4"] {
            resources.append(J.o(("resourceType", .string("Patient")), ("id", .string(p)), ("active", .bool(true))))
        }
        resources += [
            Self.coverage("p1-imss", patient: "p1", payer: "imss", plan: "imss-regimen-obligatorio"),
            Self.coverage("p1-vp", patient: "p1", payer: "seguros-vida-plena", plan: "vida-plena-gmm-basico"),
            Self.coverage("p2-issste", patient: "p2", payer: "issste", plan: "issste"),
            Self.coverage("p3-imss", patient: "p3", payer: "imss", plan: "imss-regimen-obligatorio"),
            Self.coverage("p4-vp-old", patient: "p4", payer: "seguros-vida-plena", plan: "vida-plena-gmm-basico", end: "2026-03-31"),
        ]
        try await put(resources)
    }

    static func coverage(_ id: String, patient: String, payer: String, plan: String, end: String? = nil) -> JSON {
        J.o(("resourceType", .string("Coverage")), ("id", .string(id)), ("status", .string("active")),
            ("beneficiary", J.ref("Patient/\(patient)")), ("payor", J.a([J.ref("Organization/\(payer)")])),
            ("class", J.a([J.o(("type", J.concept("http://terminology.hl7.org/CodeSystem/coverage-class", "plan")), ("value", .string(plan)))])),
            ("period", J.o(("start", .string("2025-01-01")), ("end", end.map { .string($0) }))))
    }

    func guarded() async throws -> GuardedRepository { try await door.open(operatorPrincipal, audit: nil) }

    func put(_ resources: [JSON]) async throws {
        let entries = resources.map { r in
            J.o(("resource", r), ("request", J.o(("method", .string("PUT")), ("url", .string("\(r["resourceType"]!.stringValue!)/\(r["id"]!.stringValue!)")))))
        }
        _ = try await guarded().process(bundle: J.o(("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", J.a(entries))),
                                        options: .init(base: "urn:test", maxEntries: 10_000))
    }

    /// A Claim of `provider` for `patient` under `coverage`, with (tariff code, quantity, net?) items.
    static func claim(_ identifier: String, patient: String, provider: String, coverage: String, date: String,
                      items: [(String, Int, String?)], diagnosis: String = "E11.9") -> JSON {
        let lines = items.enumerated().map { i, item in
            J.o(("sequence", J.n(i + 1)),
                ("productOrService", J.concept(Tariff.intercambio2026.system, item.0)),
                ("servicedDate", .string(date)), ("quantity", J.o(("value", J.n(item.1)))),
                ("net", item.2.map { J.o(("value", .number($0)), ("currency", .string("MXN"))) }))
        }
        return J.o(("resourceType", .string("Claim")), ("identifier", J.a([J.o(("system", .string("https://enlace.mx/test/claims")), ("value", .string(identifier)))])),
                   ("status", .string("active")), ("type", J.concept("http://terminology.hl7.org/CodeSystem/claim-type", "institutional")),
                   ("use", .string("claim")), ("patient", J.ref("Patient/\(patient)")), ("created", .string(date)),
                   ("provider", J.ref("Organization/\(provider)")), ("priority", J.concept("http://terminology.hl7.org/CodeSystem/processpriority", "normal")),
                   ("diagnosis", J.a([J.o(("sequence", J.n(1)), ("diagnosisCodeableConcept", J.concept("http://hl7.org/fhir/sid/icd-10", diagnosis)))])),
                   ("insurance", J.a([J.o(("sequence", J.n(1)), ("focal", .bool(true)), ("coverage", J.ref("Coverage/\(coverage)")))])),
                   ("item", J.a(lines)))
    }

    func count(_ type: String, _ params: [(String, String)] = []) async throws -> Int {
        try await FinancingService.all(type, params, guarded: guarded()).count
    }
}
