import FHIR
import Foundation
@testable import Financing
import Storage
import Testing
import Trust

/// `financing.claims`: a finished Encounter becomes a Claim, adjudicated like `Claim/$submit`.
@Suite("Claims from care")
struct ClaimsFromCareTests {
    static func encounter(_ id: String, patient: String, provider: String, cls: String = "AMB", status: String = "finished",
                          start: String = "2026-08-14T10:00:00Z", end: String = "2026-08-14T10:30:00Z") -> JSON {
        J.o(("resourceType", .string("Encounter")), ("id", .string(id)), ("status", .string(status)),
            ("class", J.coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", cls)),
            ("subject", J.ref("Patient/\(patient)")), ("serviceProvider", J.ref("Organization/\(provider)")),
            ("period", J.o(("start", .string(start)), ("end", .string(end)))))
    }

    /// What was recorded in the visit: a diagnosis, a procedure, an HbA1c, a dispensed box of metformin and an unmapped result.
    static func record(_ enc: String, patient: String) -> [JSON] {
        let e = J.ref("Encounter/\(enc)"), s = J.ref("Patient/\(patient)")
        return [
            J.o(("resourceType", .string("Condition")), ("id", .string("\(enc)-dx")), ("subject", s), ("encounter", e),
                ("clinicalStatus", J.concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active")),
                ("code", J.concept("http://hl7.org/fhir/sid/icd-10", "E11.9"))),
            J.o(("resourceType", .string("Procedure")), ("id", .string("\(enc)-foot")), ("status", .string("completed")), ("subject", s), ("encounter", e),
                ("code", J.concept("http://snomed.info/sct", "401191002"))),
            J.o(("resourceType", .string("Observation")), ("id", .string("\(enc)-a1c")), ("status", .string("final")), ("subject", s), ("encounter", e),
                ("category", J.a([J.concept("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory")])),
                ("code", J.concept("http://loinc.org", "4548-4")), ("effectiveDateTime", .string("2026-08-14T10:10:00Z")),
                ("valueQuantity", J.o(("value", .number("6.8")), ("unit", .string("%"))))),
            J.o(("resourceType", .string("Observation")), ("id", .string("\(enc)-other")), ("status", .string("final")), ("subject", s), ("encounter", e),
                ("category", J.a([J.concept("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory")])),
                ("code", J.concept("http://loinc.org", "1234-5")), ("effectiveDateTime", .string("2026-08-14T10:10:00Z")),
                ("valueQuantity", J.o(("value", .number("1")), ("unit", .string("1"))))),
            J.o(("resourceType", .string("MedicationDispense")), ("id", .string("\(enc)-rx")), ("status", .string("completed")), ("subject", s),
                ("context", e), ("medicationCodeableConcept", J.text("Metformina 850 mg tabletas")),
                ("quantity", J.o(("value", .number("60")), ("unit", .string("tabletas"))))),
        ]
    }

    static func number(_ j: JSON?) -> String { if case .number(let n)? = j { return n } else { return "?" } }

    static func codes(_ claim: JSON) -> [String] {
        (claim["item"]?.arrayValue ?? []).map { "\($0["productOrService"]!["coding"]!.arrayValue![0]["code"]!.stringValue!)x\(Self.number($0["quantity"]?["value"]))" }
    }

    @Test func aFinishedVisitBecomesAnAdjudicatedClaimWithItsServices() async throws {
        let f = try await FinancingFixture()
        let consumer = ClaimsFromCareConsumer(start: .beginning)
        // in progress: nothing is claimed yet
        try await f.put([Self.encounter("v1", patient: "p3", provider: "imss-umf-20", status: "in-progress")] + Self.record("v1", patient: "p3"))
        try await f.door.catchUp(consumer)
        #expect(try await f.count("Claim") == 0)
        try await f.put([Self.encounter("v1", patient: "p3", provider: "imss-umf-20")])
        try await f.door.catchUp(consumer)
        let claims = try await FinancingService.all("Claim", [], guarded: f.guarded())
        #expect(claims.count == 1)
        let claim = try #require(claims.first)
        // version 2 of the Encounter is the one that finished
        #expect(claim["identifier"]?.arrayValue?.first?["value"]?.stringValue == "Encounter/v1/_history/2")
        #expect(claim["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "professional")
        // visit 01.001, foot exam 05.001, HbA1c 03.001, 60 tablets = 2 boxes of 07.001; the unmapped result is not claimed
        #expect(Self.codes(claim) == ["01.001x1", "05.001x1", "03.001x1", "07.001x2"])
        #expect(claim["diagnosis"]?.arrayValue?.first?["diagnosisCodeableConcept"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "E11.9")
        // the IMSS unit claims to IMSS (the Coverage whose payor is the serving institution)
        #expect(claim["insurance"]?.arrayValue?.first?["coverage"]?["reference"]?.stringValue == "Coverage/p3-imss")
        // adjudicated: IMSS pays it all, by hand 826.00 + 320.00 + 310.00 + 2 × 38.50 = 1,533.00
        let eobs = try await FinancingService.all("ExplanationOfBenefit", [("patient", "Patient/p3")], guarded: f.guarded())
        #expect(eobs.count == 1)
        #expect(eobs.first?["payment"]?["amount"]?["value"] == .number("1533.00"))
        #expect(try await f.count("ClaimResponse") == 1)
        // the claim's Provenance names the consumer rule, the map, the plan and the tariff, from the Encounter version
        let provenances = try await FinancingService.all("Provenance", [], guarded: f.guarded()).filter {
            ($0["entity"]?.arrayValue ?? []).contains { $0["what"]?["reference"]?.stringValue == "Encounter/v1/_history/2" }
        }
        #expect(provenances.count == 1)
        let policies = Set(provenances.flatMap { $0["policy"]?.arrayValue ?? [] }.compactMap(\.stringValue))
        #expect(policies.isSuperset(of: [ClaimsFromCareConsumer.rule, CareServiceMap.standard.canonical,
                                         "https://enlace.mx/fhir/InsurancePlan/imss-regimen-obligatorio|2026.1", Tariff.intercambio2026.canonical]))
        #expect(provenances.first?["target"]?.arrayValue?.count == 3)
        // the ledger: IMSS serving its own beneficiary, balanced
        let ledger = try await FinancingService().ledger(guarded: f.guarded())
        #expect(ledger.violations().isEmpty)
        #expect(ledger.balance(.revenue("Organization/imss")) == -Money(pesos: 1_533))
    }

    /// A dispensed quantity no count of units can hold (1e300 tablets) trapped `Int(_:)` in the
    /// consumer — a crash at every restart, since it retries the event. It is left out of the
    /// claim; the rest is claimed.
    @Test func anAbsurdDispensedQuantityIsLeftOutNotACrash() async throws {
        let f = try await FinancingFixture()
        let consumer = ClaimsFromCareConsumer(start: .beginning)
        var record = Self.record("v9", patient: "p3")
        let last = record.count - 1
        if case .object(var members) = record[last] {
            members = members.map { $0.0 == "quantity" ? ("quantity", J.o(("value", .number("1e300")), ("unit", .string("tabletas")))) : $0 }
            record[last] = .object(members)
        }
        #expect(record[last]["quantity"]?["value"] == .number("1e300"))
        try await f.put([Self.encounter("v9", patient: "p3", provider: "imss-umf-20")] + record)
        try await f.door.catchUp(consumer)
        let claims = try await FinancingService.all("Claim", [], guarded: f.guarded())
        #expect(claims.count == 1)
        #expect(claims.first.map(Self.codes) == ["01.001x1", "05.001x1", "03.001x1"])
        // the leaving-out is said: a DetectedIssue implicating the dispense, by the algorithm, in Spanish and English
        let issues = try await FinancingService.all("DetectedIssue", [], guarded: f.guarded())
        #expect(issues.count == 1)
        let issue = try #require(issues.first)
        #expect(issue["implicated"]?.arrayValue?.first?["reference"]?.stringValue == "MedicationDispense/v9-rx")
        #expect(issue["patient"]?["reference"]?.stringValue == "Patient/p3")
        #expect(issue["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "quantity-out-of-range")
        #expect(issue["evidence"]?.arrayValue?.first?["detail"]?.arrayValue?.first?["reference"]?.stringValue?.hasPrefix("Encounter/v9/_history/") == true)
        let detail = issue["detail"]?.stringValue ?? ""
        #expect(detail.contains("1e300") && detail.contains("left out of the claim") && detail.contains("quedó fuera de la reclamación"), "\(detail)")
        #expect(issue["author"]?["identifier"]?["value"]?.stringValue == "financing.claims@1.0")
        // accountable: the batch's Provenance targets it and names the rule
        let provenances = try await FinancingService.all("Provenance", [("target", "DetectedIssue/\(issue["id"]?.stringValue ?? "")")], guarded: f.guarded())
        #expect(provenances.count == 1)
        #expect(provenances.first?["policy"]?.arrayValue?.contains(.string(ClaimsFromCareConsumer.rule)) == true)
        // a later version of the finished Encounter: already judged, no second issue
        try await f.put([Self.encounter("v9", patient: "p3", provider: "imss-umf-20", end: "2026-08-14T10:45:00Z")])
        try await f.door.catchUp(consumer)
        #expect(try await FinancingService.all("DetectedIssue", [], guarded: f.guarded()).count == 1)
        // a dispense within range leaves no issue
        try await f.put([Self.encounter("v10", patient: "p3", provider: "imss-umf-20")] + Self.record("v10", patient: "p3"))
        try await f.door.catchUp(consumer)
        #expect(try await FinancingService.all("DetectedIssue", [], guarded: f.guarded()).count == 1)
        #expect(try await FinancingService.all("Claim", [], guarded: f.guarded()).count == 2)
    }

    @Test func aReplayedOrEditedEncounterNeverMakesASecondClaim() async throws {
        let f = try await FinancingFixture()
        let consumer = ClaimsFromCareConsumer(start: .beginning)
        try await f.put(Self.record("v2", patient: "p2") + [Self.encounter("v2", patient: "p2", provider: "imss-umf-20")])
        // two decisions on the same events before either is written (a crash and a retry, or two nodes)
        let events = [OutboxEvent(position: .start, type: "Encounter", id: "v2", version: 1, deleted: false, lastUpdated: FinancingFixture.now,
                                  compartments: ["p2"], labels: [])]
        let state = f.door.state(of: ClaimsFromCareConsumer.consumerName)
        let a = try await consumer.handle(events, guarded: f.guarded(), state: state)
        let b = try await consumer.handle(events, guarded: f.guarded(), state: state)
        for out in [a, b] {
            var w = try await f.guarded()
            w.provenanceTemplate = out.provenance
            _ = try await w.process(bundle: try #require(out.transaction), options: .init(base: "urn:test", maxEntries: 100))
        }
        #expect(try await f.count("Claim") == 1)
        #expect(try await f.count("ClaimResponse") == 1)
        #expect(try await f.count("ExplanationOfBenefit") == 1)
        // through the door: claimed once, and a later edit of the finished Encounter claims nothing more
        try await f.door.catchUp(consumer)
        var edited = Self.encounter("v2", patient: "p2", provider: "imss-umf-20")
        edited = edited.setting("type", J.a([J.text("Consulta de control")]))
        try await f.put([edited])
        try await f.door.catchUp(consumer)
        #expect(try await f.count("Claim") == 1)
        // the ledger has the claim once (ISSSTE owes IMSS for its beneficiary's visit)
        let ledger = try await FinancingService().ledger(guarded: f.guarded())
        #expect(ledger.violations().isEmpty)
        #expect(ledger.balance(.receivable("Organization/imss", from: "Organization/issste")) > .zero)
    }

    @Test func anEmergencyAtAPrivateHospitalIsInstitutionalAndSharesTheDeductibleInOneBatch() async throws {
        let f = try await FinancingFixture()
        // p1 has IMSS and a private policy; the private one applies first (order 1)
        var vp = FinancingFixture.coverage("p1-vp", patient: "p1", payer: "seguros-vida-plena", plan: "vida-plena-gmm-basico")
        vp = vp.setting("order", J.n(1))
        let e1 = Self.encounter("er1", patient: "p1", provider: "hospital-santa-fe", cls: "EMER")
        let e2 = Self.encounter("er2", patient: "p1", provider: "hospital-santa-fe", cls: "EMER", start: "2026-08-20T10:00:00Z", end: "2026-08-20T12:00:00Z")
        try await f.put([vp, e1, e2])
        try await f.door.catchUp(ClaimsFromCareConsumer(start: .beginning))
        let claims = try await FinancingService.all("Claim", [], guarded: f.guarded())
        #expect(claims.count == 2)
        #expect(claims.allSatisfy { $0["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "institutional" })
        #expect(claims.allSatisfy { $0["insurance"]?.arrayValue?.first?["coverage"]?["reference"]?.stringValue == "Coverage/p1-vp" })
        // 1,170.00 each; deductible 1,500.00 across both (in one batch): 1,170 + 330 then 10 % of 840 = 84 → insurer 756.00
        let paid = try await FinancingService.all("ExplanationOfBenefit", [], guarded: f.guarded())
            .compactMap { $0["payment"]?["amount"]?["value"] }.sorted { "\($0)" < "\($1)" }
        #expect(paid == [.number("0.00"), .number("756.00")])
    }

    @Test func noCoverageOrNothingPricedMakesNoClaim() async throws {
        let f = try await FinancingFixture()
        try await f.put([J.o(("resourceType", .string("Patient")), ("id", .string("p9")), ("active", .bool(true))),
                         Self.encounter("n1", patient: "p9", provider: "imss-umf-20"),
                         Self.encounter("n2", patient: "p3", provider: "imss-umf-20", cls: "XYZ")])
        try await f.door.catchUp(ClaimsFromCareConsumer(start: .beginning))
        #expect(try await f.count("Claim") == 0)
        let state = f.door.state(of: ClaimsFromCareConsumer.consumerName)
        #expect(try await state.value("encounter", "n1").map { String(decoding: $0, as: UTF8.self) } == "skipped:no-coverage")
        #expect(try await state.value("encounter", "n2").map { String(decoding: $0, as: UTF8.self) } == "skipped:nothing-to-claim")
    }
}

@Suite("Financing knowledge")
struct FinancingKnowledgeTests {
    @Test func theShippedFilesLoad() throws {
        try FinancingKnowledge.check()
        #expect(Tariff.intercambio2026.version == "2026.1")
    }

    @Test func aBrokenFileIsReportedNotACrash() {
        #expect(throws: KnowledgeError.self) { try Tariff.load("{ not json", name: "Roto") }
        do {
            _ = try Tariff.load(#"{"id": "t", "version": "1", "system": "s", "title": "x", "items": [{"code": "1"}]}"#, name: "SinPrecio")
            Issue.record("a tariff item without a price loaded")
        } catch let e as KnowledgeError {
            #expect(e.file == "SinPrecio")
            #expect(e.description.contains("SinPrecio") && e.description.contains("price"))
            #expect(e.fhirError.status == 500 && e.fhirError.issues.first?.spanish.contains("SinPrecio") == true)
        } catch { Issue.record("unexpected \(error)") }
        #expect(throws: KnowledgeError.self) { try FinancingKnowledge.loadResources(#"[{"resourceType": "Measure"}]"#, name: "Medidas", type: "Measure") }
    }
}
