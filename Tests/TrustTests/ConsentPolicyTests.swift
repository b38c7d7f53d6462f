import FHIR
import Foundation
@_spi(Unguarded) import Storage
import StorageSQLite
import Testing
@testable import Trust

/// The decision table of docs/privacy-policy.md, row by row (actor × purpose × category ×
/// consent state → permit/deny + the reason), and the Consent evaluation behind it.
@Suite("Privacy policy decision table")
struct ConsentPolicyTests {
    typealias Q = PrivacyPolicy.Question
    static let policy = PrivacyPolicy()
    static func rule(_ r: String) -> String { PrivacyPolicy.rule(r) }

    struct Row: Sendable, CustomTestStringConvertible {
        let id: String
        let question: Q
        let permit: Bool
        let reason: String
        var testDescription: String { id }
    }

    /// Every row of the table in docs/privacy-policy.md (same ids).
    static let rows: [Row] = [
        Row(id: "P1 patient, own record", question: Q(actor: .patient, purpose: "PATRQT", label: "GDIS"), permit: true, reason: rule("own-record")),
        Row(id: "P2 patient, category not to be told", question: Q(actor: .patient, purpose: "PATRQT", label: "GDIS", notToKnow: "Consent/ntk"),
            permit: false, reason: "Consent/ntk"),
        Row(id: "P3 patient, category not to be told, disclosed", question: Q(actor: .patient, purpose: "PATRQT", label: "GDIS", notToKnow: "Consent/ntk", disclosed: true),
            permit: true, reason: rule("disclosed")),
        Row(id: "C1 treating clinician, TREAT, ordinary data", question: Q(actor: .clinician, purpose: "TREAT", treating: true), permit: true, reason: rule("treating-relationship")),
        Row(id: "C2 clinician without relationship", question: Q(actor: .clinician, purpose: "TREAT", treating: false), permit: false, reason: rule("no-relationship")),
        Row(id: "C3 treating clinician, sensitive category, no consent", question: Q(actor: .clinician, purpose: "TREAT", treating: true, label: "HIV"),
            permit: false, reason: rule("sensitive-needs-consent")),
        Row(id: "C3 mental health", question: Q(actor: .clinician, purpose: "TREAT", treating: true, label: "MH"), permit: false, reason: rule("sensitive-needs-consent")),
        Row(id: "C3 substance use", question: Q(actor: .clinician, purpose: "TREAT", treating: true, label: "ETH"), permit: false, reason: rule("sensitive-needs-consent")),
        Row(id: "C3 genetics", question: Q(actor: .clinician, purpose: "TREAT", treating: true, label: "GDIS"), permit: false, reason: rule("sensitive-needs-consent")),
        Row(id: "C3 sexual and reproductive", question: Q(actor: .clinician, purpose: "TREAT", treating: true, label: "SEX"), permit: false, reason: rule("sensitive-needs-consent")),
        Row(id: "C3 STI", question: Q(actor: .clinician, purpose: "TREAT", treating: true, label: "STD"), permit: false, reason: rule("sensitive-needs-consent")),
        Row(id: "C4 treating clinician, sensitive category, express consent", question: Q(actor: .clinician, purpose: "TREAT", treating: true, label: "HIV", consent: .permit("Consent/hiv")),
            permit: true, reason: "Consent/hiv"),
        Row(id: "C5 clinician without relationship, granted request", question: Q(actor: .clinician, purpose: "TREAT", consent: .permit("Consent/req")),
            permit: true, reason: "Consent/req"),
        Row(id: "C6 treating clinician, patient denied this actor", question: Q(actor: .clinician, purpose: "TREAT", treating: true, consent: .deny("Consent/no")),
            permit: false, reason: "Consent/no"),
        Row(id: "C7 break-the-glass, sensitive category", question: Q(actor: .clinician, purpose: "ETREAT", label: "MH", breakTheGlass: "Task/btg"),
            permit: true, reason: "Task/btg"),
        Row(id: "C7 break-the-glass overrides a denial", question: Q(actor: .clinician, purpose: "ETREAT", consent: .deny("Consent/no"), breakTheGlass: "Task/btg"),
            permit: true, reason: "Task/btg"),
        Row(id: "C8 ETREAT asserted without break-the-glass", question: Q(actor: .clinician, purpose: "ETREAT", treating: true, label: "HIV"),
            permit: false, reason: rule("emergency-needs-break-the-glass")),
        Row(id: "C9 treating clinician, purpose not treatment", question: Q(actor: .clinician, purpose: "HPAYMT", treating: true), permit: false, reason: rule("purpose-not-treatment")),
        Row(id: "Y1 payer, payment data", question: Q(actor: .payer, purpose: "HPAYMT", resourceType: "Claim"), permit: true, reason: rule("payer-beneficiary")),
        Row(id: "Y2 payer, clinical results", question: Q(actor: .payer, purpose: "HPAYMT", resourceType: "Observation"), permit: false, reason: rule("payer-minimum-necessary")),
        Row(id: "Y2 payer, clinical notes", question: Q(actor: .payer, purpose: "HPAYMT", resourceType: "DocumentReference"), permit: false, reason: rule("payer-minimum-necessary")),
        Row(id: "Y4 payer, an encounter in outline", question: Q(actor: .payer, purpose: "HPAYMT", resourceType: "Encounter"), permit: true, reason: rule("payer-minimal-encounter")),
        Row(id: "Y3 payer, purpose not payment", question: Q(actor: .payer, purpose: "HRESCH", resourceType: "Claim"), permit: false, reason: rule("payer-purpose-not-payment")),
        Row(id: "R1 research without consent", question: Q(actor: .secondaryUser, purpose: "HRESCH"), permit: false, reason: rule("secondary-use-needs-consent")),
        Row(id: "R1 algorithm training without consent", question: Q(actor: .secondaryUser, purpose: "MLTRAINING"), permit: false, reason: rule("secondary-use-needs-consent")),
        Row(id: "R2 research with express consent", question: Q(actor: .secondaryUser, purpose: "HRESCH", consent: .permit("Consent/study")), permit: true, reason: "Consent/study"),
        Row(id: "R3 research, patient opposed (ARCO)", question: Q(actor: .secondaryUser, purpose: "HRESCH", consent: .deny("Consent/oppose")), permit: false, reason: "Consent/oppose"),
    ]

    @Test(arguments: rows)
    func row(_ row: Row) {
        let answer = ConsentPolicyTests.policy.decide(row.question)
        #expect(answer.permit == row.permit)
        #expect(answer.reason == row.reason)
    }

    @Test func everyRowOfTheDocumentIsCovered() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/privacy-policy.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        let documented = Set(text.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| "), let id = line.dropFirst(2).split(separator: " ").first, id.count <= 3,
                  let letter = id.first, "PCYR".contains(letter), id.dropFirst().allSatisfy(\.isNumber), id.count > 1 else { return nil }
            return String(id)
        })
        let tested = Set(ConsentPolicyTests.rows.map { String($0.id.split(separator: " ")[0]) })
        #expect(!documented.isEmpty)
        #expect(documented == tested)
    }

    // MARK: - Consent evaluation

    static let millis: Int64 = 1_790_000_000_000  // 2026-09

    static func consent(_ id: String, _ json: String) -> ConsentRecord {
        var r = ConsentRecord(json: try! JSONParser.parse(json))
        r.id = id
        return r
    }

    @Test func grantForAnActorAndPurpose() {
        let c = ConsentPolicyTests.consent("1", #"{"resourceType":"Consent","status":"active","scope":{"coding":[{"code":"patient-privacy"}]},"patient":{"reference":"Patient/p"},"provision":{"type":"permit","period":{"start":"2026-01-01","end":"2026-12-31"},"actor":[{"reference":{"reference":"Practitioner/dr"}}],"purpose":[{"code":"TREAT"}],"securityLabel":[{"code":"GDIS"}]}}"#)
        let e = ConsentEvaluator([c])
        #expect(e.evaluate(actors: ["Practitioner/dr"], purpose: "TREAT", label: nil, at: ConsentPolicyTests.millis) == .permit("Consent/1"))
        #expect(e.evaluate(actors: ["Practitioner/dr"], purpose: "TREAT", label: "GDIS", at: ConsentPolicyTests.millis) == .permit("Consent/1"))
        #expect(e.evaluate(actors: ["Practitioner/dr"], purpose: "TREAT", label: "HIV", at: ConsentPolicyTests.millis) == .none)
        #expect(e.evaluate(actors: ["Practitioner/other"], purpose: "TREAT", label: nil, at: ConsentPolicyTests.millis) == .none)
        #expect(e.evaluate(actors: ["Practitioner/dr"], purpose: "HRESCH", label: nil, at: ConsentPolicyTests.millis) == .none)
        // expired, inactive
        #expect(e.evaluate(actors: ["Practitioner/dr"], purpose: "TREAT", label: nil, at: 1_900_000_000_000) == .none)
        var revoked = c
        revoked.status = "inactive"
        #expect(ConsentEvaluator([revoked]).evaluate(actors: ["Practitioner/dr"], purpose: "TREAT", label: nil, at: ConsentPolicyTests.millis) == .none)
    }

    @Test func nestedExceptionAndDenyWins() {
        // permit the organization, except HIV data; a second Consent opposes research
        let c = ConsentPolicyTests.consent("2", #"{"resourceType":"Consent","status":"active","patient":{"reference":"Patient/p"},"provision":{"type":"permit","actor":[{"reference":{"reference":"Organization/imss"}}],"provision":[{"type":"deny","securityLabel":[{"code":"HIV"}]}]}}"#)
        let o = ConsentPolicyTests.consent("3", #"{"resourceType":"Consent","status":"active","patient":{"reference":"Patient/p"},"provision":{"type":"deny","purpose":[{"code":"HRESCH"},{"code":"MLTRAINING"}]}}"#)
        let e = ConsentEvaluator([c, o])
        #expect(e.evaluate(actors: ["Organization/imss"], purpose: "TREAT", label: nil, at: 0) == .permit("Consent/2"))
        #expect(e.evaluate(actors: ["Organization/imss"], purpose: "TREAT", label: "HIV", at: 0) == .deny("Consent/2"))
        #expect(e.evaluate(actors: ["Organization/imss"], purpose: "HRESCH", label: nil, at: 0) == .deny("Consent/3"))
        #expect(e.evaluate(actors: ["Device/ml"], purpose: "MLTRAINING", label: nil, at: 0) == .deny("Consent/3"))
    }

    @Test func rightNotToKnow() {
        let c = ConsentPolicyTests.consent("4", #"{"resourceType":"Consent","status":"active","patient":{"reference":"Patient/p"},"extension":[{"url":"https://enlace.mx/fhir/StructureDefinition/right-not-to-know-existence","valueBoolean":true}],"provision":{"type":"deny","actor":[{"reference":{"reference":"Patient/p"}}],"securityLabel":[{"code":"GDIS"}]}}"#)
        let ntk = ConsentEvaluator([c]).notToKnow(patient: "p", at: 0)
        #expect(ntk.map { $0.label } == ["GDIS"])
        #expect(ntk.first?.consent == "Consent/4")
        #expect(ntk.first?.knowExistence == true)
        // it does not restrict the care team
        #expect(ConsentEvaluator([c]).evaluate(actors: ["Practitioner/dr"], purpose: "TREAT", label: "GDIS", at: 0) == .none)
    }

    // MARK: - sensitivity labels on write

    @Test func labelsFromCodes() throws {
        let l = SensitivityLabeler()
        func labels(_ json: String, _ type: String = "Condition") throws -> [String] {
            l.securityLabels(for: try JSONParser.parse(json), type: type).map(\.code)
        }
        #expect(try labels(#"{"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"F32.1"}]}}"#) == ["MH"])
        #expect(try labels(#"{"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"F10.2"}]}}"#) == ["ETH", "SUD"])
        #expect(try labels(#"{"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"B20"}]}}"#) == ["HIV"])
        #expect(try labels(#"{"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"A54.0"}]}}"#) == ["STD"])
        #expect(try labels(#"{"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"Z30.0"}]}}"#) == ["SEX"])
        #expect(try labels(#"{"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"O80"}]}}"#) == ["SEX"])
        #expect(try labels(#"{"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"Q90.9"}]}}"#) == ["GDIS"])
        #expect(try labels(#"{"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11.9"}]}}"#) == [])
        #expect(try labels(#"{"code":{"coding":[{"system":"http://loinc.org","code":"51969-4"}]}}"#, "Observation") == ["GDIS"])
        #expect(try labels(#"{"code":{"coding":[{"system":"http://snomed.info/sct","code":"86406008"}]}}"#) == ["HIV"])
        #expect(try labels(#"{"code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]}}"#, "Observation") == [])
        // privacy records are never labelled from their codes
        #expect(try labels(#"{"provision":{"code":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"B20"}]}]}}"#, "Consent") == [])
    }

    @Test func taskIsFiledWithItsPatient() throws {
        let l = SensitivityLabeler()
        #expect(l.extraCompartments(for: try JSONParser.parse(#"{"for":{"reference":"Patient/p1"}}"#), type: "Task") == ["p1"])
        #expect(l.extraCompartments(for: try JSONParser.parse(#"{"for":{"reference":"Group/g"}}"#), type: "Task") == [])
    }

    @Test func labelsReachStorage() async throws {
        var repo = Repository(store: try SQLiteStore(), validate: { _ in [] })
        repo.labeler = SensitivityLabeler()
        let r = try await repo.create("Condition", try JSONParser.parse(#"{"resourceType":"Condition","subject":{"reference":"Patient/p"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"B20"}]}}"#)).resource
        #expect(r.labels == ["HIV"])
        let body = try r.json()
        #expect(body["meta"]?["security"]?.arrayValue?.first?["system"]?.stringValue == PrivacyCodes.actCode)
        var (q, _) = try SearchParser().parse(types: ["Condition"], parameters: [("_security", "\(PrivacyCodes.actCode)|HIV")])
        #expect(try await repo.search(q).matches.count == 1)
        q.visibility = Visibility(patients: ["p"], sharedTypes: [], hiddenLabelsByPatient: ["p": ["HIV"]])
        #expect(try await repo.search(q).matches.isEmpty)
    }
}
