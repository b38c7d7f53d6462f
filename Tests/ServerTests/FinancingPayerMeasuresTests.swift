import FHIR
import Foundation
import HTTPTypes
@testable import Server
@_spi(Unguarded) import Storage
import Testing
@testable import Trust

/// A payer's quality measures (docs/financing.md, "A payer's measures"; row Y5 of
/// docs/privacy-policy.md), on both backends: `$evaluate-measure` by a payer counts its
/// beneficiaries' clinical data, and only theirs, without returning any of it — a summary with
/// counts only, small populations masked — and refuses the reports that would name patients;
/// the payer still cannot read an Observation, and each counted patient's access log names the
/// payer's request.
@Suite("Financing: a payer's measures")
struct FinancingPayerMeasuresTests {
    static let hba1c = "diabetes-hba1c-control"

    /// Nine IMSS beneficiaries with type 2 diabetes (five with a last HbA1c under 7 %), three of
    /// them managed by the unit `umf-a`; one ISSSTE patient with a controlled HbA1c.
    static func seed(_ c: Client) async throws {
        var resources: [String] = [
            #"{"resourceType":"Organization","id":"imss","active":true,"name":"IMSS"}"#,
            #"{"resourceType":"Organization","id":"issste","active":true,"name":"ISSSTE"}"#,
            #"{"resourceType":"Organization","id":"umf-a","active":true,"name":"UMF A","partOf":{"reference":"Organization/imss"}}"#,
        ]
        let patients: [(id: String, payer: String, hba1c: Double, unit: String?)] =
            (1...9).map { (id: "b\($0)", payer: "imss", hba1c: $0 <= 5 ? 6.4 : 8.1, unit: $0 >= 7 ? "umf-a" : nil) }
            + [(id: "x1", payer: "issste", hba1c: 6.2, unit: nil)]
        for p in patients {
            let managed = p.unit.map { #","managingOrganization":{"reference":"Organization/\#($0)"}"# } ?? ""
            resources.append(#"{"resourceType":"Patient","id":"\#(p.id)","name":[{"family":"Paciente","given":["\#(p.id)"]}]\#(managed)}"#)
            resources.append(#"{"resourceType":"Coverage","id":"cov-\#(p.id)","status":"active","beneficiary":{"reference":"Patient/\#(p.id)"},"payor":[{"reference":"Organization/\#(p.payer)"}]}"#)
            resources.append(#"{"resourceType":"Condition","id":"dm-\#(p.id)","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11.9"}]},"subject":{"reference":"Patient/\#(p.id)"},"recordedDate":"2026-01-10"}"#)
            resources.append(#"{"resourceType":"Observation","id":"a1c-\#(p.id)","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/\#(p.id)"},"effectiveDateTime":"2026-08-15T10:00:00Z","valueQuantity":{"value":\#(p.hba1c),"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}"#)
        }
        for json in resources {
            let r = try JSONParser.parse(Array(json.utf8))
            let path = "/fhir/\(r["resourceType"]?.stringValue ?? "")/\(r["id"]?.stringValue ?? "")"
            let reply = try await c.send(.put, path, json: json)
            #expect(reply.status == 201, "\(path): \(reply.text.prefix(300))")
        }
    }

    /// The population counts of a MeasureReport's first group by code: a number, or "masked".
    static func counts(_ report: JSON) -> [String: String] {
        var out: [String: String] = [:]
        for p in report["group"]?.arrayValue?.first?["population"]?.arrayValue ?? [] {
            guard let code = p["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue else { continue }
            if case .number(let n)? = p["count"] { out[code] = n }
            if p["_count"]?["extension"]?.arrayValue?.first?["valueCode"]?.stringValue == "masked" { out[code] = "masked" }
        }
        return out
    }

    @Test(arguments: ServerBackend.allCases)
    func aPayerCountsItsBeneficiariesWithoutReadingThem(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let payer = try server.services.authority.issueClaims(subject: "user:finanzas-imss", scope: "user/*.rs", ttl: 600, now: server.clock.now(),
                                                              role: .payer, organization: "Organization/imss").token
        let auth = ["Authorization": "Bearer \(payer)"]
        try await server.run { c in
            try await Self.seed(c)
            let period = "periodStart=2026-07-01&periodEnd=2026-09-30"

            // the operator sees all ten diabetics, six controlled
            let all = try await c.send(.get, "/fhir/Measure/\(Self.hba1c)/$evaluate-measure?\(period)")
            #expect(all.status == 200 && Self.counts(all.json)["denominator"] == "10" && Self.counts(all.json)["numerator"] == "6", "\(all.text.prefix(600))")

            // the payer: its nine beneficiaries, five controlled; counts only
            let mine = try await c.send(.get, "/fhir/Measure/\(Self.hba1c)/$evaluate-measure?\(period)", headers: auth, auth: false)
            #expect(mine.status == 200, "\(mine.text.prefix(600))")
            #expect(Self.counts(mine.json) == ["initial-population": "9", "denominator": "9", "numerator": "5"], "\(mine.text.prefix(800))")
            #expect(mine.json["group"]?.arrayValue?.first?["measureScore"]?["value"] == .number("0.5556"))
            #expect(mine.json["group"]?.arrayValue?.first?["extension"]?.arrayValue?.first?["valueInteger"] == .number("9"), "the people counted")
            #expect(mine.json["type"]?.stringValue == "summary" && mine.json["contained"] == nil && mine.json["subject"] == nil)
            #expect(!mine.text.contains("Patient/"), "no patient is named: \(mine.text)")
            let index = try #require(mine.header("X-Audit-Index").flatMap { Int64($0) })
            let entry = try #require(try await server.services.store.read { try $0.auditEntries(start: index, end: index + 1) }.first)
            #expect(Set(entry.patients) == Set((1...9).map { "b\($0)" }), "each counted beneficiary sees the payer's request, and only they: \(entry.patients)")
            #expect(String(decoding: entry.bytes, as: UTF8.self).contains("urn:enlace:rule:payer-quality-counts"))

            // a unit's three patients: too few to show
            let unit = try await c.send(.get, "/fhir/Measure/\(Self.hba1c)/$evaluate-measure?\(period)&organization=Organization/umf-a", headers: auth, auth: false)
            #expect(unit.status == 200 && Self.counts(unit.json)["denominator"] == "masked" && Self.counts(unit.json)["numerator"] == "0", "\(unit.text.prefix(800))")
            #expect(unit.json["group"]?.arrayValue?.first?["measureScore"]?["value"] == nil)
            #expect(unit.json["group"]?.arrayValue?.first?["extension"] == nil, "how many people is masked too")

            // what would name patients is refused; the data itself stays unreadable
            for refused in ["\(period)&reportType=subject-list", "\(period)&subject=Patient/b1", "\(period)&reportType=individual&subject=Patient/b1"] {
                let r = try await c.send(.get, "/fhir/Measure/\(Self.hba1c)/$evaluate-measure?\(refused)", headers: auth, auth: false)
                #expect(r.status == 403 && r.text.contains("OperationOutcome") && r.text.contains("resumidos"), "\(refused): \(r.status) \(r.text.prefix(300))")
            }
            #expect(try await c.send(.get, "/fhir/Observation?patient=Patient/b1", headers: auth, auth: false).status == 403)
            #expect(try await c.send(.get, "/fhir/Observation/a1c-b1", headers: auth, auth: false).status == 403)
            #expect(try await c.send(.get, "/fhir/Condition?code=E11.9", headers: auth, auth: false).status == 403)
        }
    }
}

/// The masking itself, on reports made here (`Door.countsOnly`): a visit-based group about fewer
/// than 5 people is masked whole however many visits it counts; a larger one keeps its counts
/// and masks only populations of 1–4.
@Suite("Financing: a payer's summary masks small groups")
struct PayerSummaryMaskingTests {
    static func report(people: Int, denominator: Int, numerator: Int) -> JSON {
        func population(_ code: String, _ n: Int) -> JSON {
            .object([("code", .object([("coding", .array([.object([("code", .string(code))])]))])), ("count", .number(String(n))),
                     ("subjectResults", .object([("reference", .string("#lista"))]))])
        }
        return .object([("resourceType", .string("MeasureReport")), ("type", .string("summary")),
                        ("contained", .array([.object([("resourceType", .string("List")), ("id", .string("lista"))])])),
                        ("group", .array([.object([
                            ("extension", .array([.object([("url", .string(Door.measureReportPeopleExtension)), ("valueInteger", .number(String(people)))])])),
                            ("population", .array([population("denominator", denominator), population("numerator", numerator)])),
                            ("measureScore", .object([("value", .number("0.5"))])),
                        ])]))])
    }

    @Test func aGroupOfFewPeopleIsMaskedWhole() {
        let few = Door.countsOnly(Self.report(people: 2, denominator: 12, numerator: 6), minimum: 5)
        #expect(FinancingPayerMeasuresTests.counts(few) == ["denominator": "masked", "numerator": "masked"], "\(few)")
        #expect(few["group"]?.arrayValue?.first?["measureScore"]?["value"] == nil && few["contained"] == nil)
        #expect(few["group"]?.arrayValue?.first?["extension"] == nil)
        #expect(!String(decoding: few.serialized(), as: UTF8.self).contains("#lista"))

        let many = Door.countsOnly(Self.report(people: 8, denominator: 12, numerator: 3), minimum: 5)
        #expect(FinancingPayerMeasuresTests.counts(many) == ["denominator": "12", "numerator": "masked"], "\(many)")
        #expect(many["group"]?.arrayValue?.first?["measureScore"]?["value"] == nil)
        let plain = Door.countsOnly(Self.report(people: 8, denominator: 12, numerator: 6), minimum: 5)
        #expect(FinancingPayerMeasuresTests.counts(plain) == ["denominator": "12", "numerator": "6"])
        #expect(plain["group"]?.arrayValue?.first?["measureScore"]?["value"] == .number("0.5"))
    }
}
