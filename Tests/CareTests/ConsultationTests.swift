import FHIR
import Foundation
@testable import Care
import Testing

/// The consultation (docs/care.md#the-consultation): a form checked field by field (reason,
/// note, vital signs within their limits, CIE-10 codes of the catalogue) and built into one
/// transaction — Encounter, Conditions, vital-signs Observations, the Composition note and the
/// author's Provenance — and a correction as a new version with its reason.
@Suite struct ConsultationTests {
    static let catalogue: [String: String] = ["E11.9": "Diabetes mellitus tipo 2, sin mención de complicación", "I10": "Hipertensión esencial (primaria)",
                                              "A00-B99": "Ciertas enfermedades infecciosas y parasitarias"]
    static let consultation = Consultation { catalogue[$0] }
    static let now = Timestamp(instant: "2026-12-02T17:00:00Z")!

    static func form() -> ConsultationForm {
        var f = ConsultationForm(patient: "ana")
        f.reason = "Control de diabetes"
        f.mode = "VR"
        f.note = ConsultationNote(subjective: "Refiere sed <y> cansancio", objective: "Sin edema", assessment: "DM2 descontrolada", plan: "Ajustar metformina")
        f.vitals = ["peso": "72,5", "talla": "160", "sistolica": "130", "diastolica": "85", "frecuencia": "78", "temperatura": "36.6", "glucosa": "182"]
        f.diagnoses = ["e11.9 Diabetes mellitus tipo 2", "I10", ""]
        return f
    }

    static func issues(_ f: ConsultationForm) -> [FHIR.Issue] {
        do {
            _ = try consultation.check(f)
            return []
        } catch let e as FHIRError {
            #expect(e.status == 422)
            return e.issues
        } catch {
            Testing.Issue.record("unexpected \(error)")
            return []
        }
    }

    @Test func aCompleteVisitBecomesOneTransaction() throws {
        let checked = try Self.consultation.check(Self.form())
        #expect(checked.diagnoses.map(\.code) == ["E11.9", "I10"])
        #expect(checked.vitals.first { $0.sign.key == "peso" }?.value == "72.5")
        let bundle = Self.consultation.transaction(checked, patient: "ana", author: "Practitioner/dra", organization: "Organization/umf",
                                                   start: Timestamp(instant: "2026-12-02T16:40:00Z")!, now: Self.now)
        #expect(bundle["type"]?.stringValue == "transaction")
        let entries = bundle["entry"]?.arrayValue ?? []
        let resources = entries.compactMap { $0["resource"] }
        func all(_ type: String) -> [JSON] { resources.filter { $0["resourceType"]?.stringValue == type } }
        #expect(entries.allSatisfy { $0["request"]?["method"]?.stringValue == "POST" && ($0["fullUrl"]?.stringValue ?? "").hasPrefix("urn:uuid:") })
        // Encounter: finished, VR, the practitioner, the reason, the diagnoses by reference
        let encounter = try #require(all("Encounter").first)
        let encounterURL = try #require(entries.first { $0["resource"]?["resourceType"]?.stringValue == "Encounter" }?["fullUrl"]?.stringValue)
        #expect(encounter["status"]?.stringValue == "finished")
        #expect(encounter["class"]?["code"]?.stringValue == "VR")
        #expect(encounter["participant"]?.arrayValue?.first?["individual"]?["reference"]?.stringValue == "Practitioner/dra")
        #expect(encounter["period"]?["start"]?.stringValue == "2026-12-02T16:40:00Z" || encounter["period"]?["start"]?.stringValue?.hasPrefix("2026-12-02T16:40:00") == true)
        #expect(encounter["reasonCode"]?.arrayValue?.first?["text"]?.stringValue == "Control de diabetes")
        #expect(encounter["serviceProvider"]?["reference"]?.stringValue == "Organization/umf")
        let conditionURLs = entries.filter { $0["resource"]?["resourceType"]?.stringValue == "Condition" }.compactMap { $0["fullUrl"]?.stringValue }
        #expect(conditionURLs.count == 2)
        #expect((encounter["diagnosis"]?.arrayValue ?? []).compactMap { $0["condition"]?["reference"]?.stringValue } == conditionURLs)
        // Conditions: encounter-diagnosis, the CIE-10 system, the catalogue's display
        for (c, code) in zip(all("Condition"), ["E11.9", "I10"]) {
            #expect(c["category"]?.arrayValue?.first?["coding"]?.arrayValue?.first?["code"]?.stringValue == "encounter-diagnosis")
            let coding = c["code"]?["coding"]?.arrayValue?.first
            #expect(coding?["system"]?.stringValue == "http://hl7.org/fhir/sid/icd-10" && coding?["code"]?.stringValue == code)
            #expect(coding?["display"]?.stringValue == Self.catalogue[code])
            #expect(c["encounter"]?["reference"]?.stringValue == encounterURL && c["subject"]?["reference"]?.stringValue == "Patient/ana")
        }
        // Observations: vital-signs, LOINC + UCUM, the blood pressure as one panel
        let observations = all("Observation")
        #expect(observations.count == 6)
        #expect(observations.allSatisfy {
            $0["category"]?.arrayValue?.first?["coding"]?.arrayValue?.first?["code"]?.stringValue == "vital-signs" && $0["encounter"]?["reference"]?.stringValue == encounterURL
        })
        func observation(_ loinc: String) -> JSON? { observations.first { $0["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == loinc } }
        let weight = try #require(observation("29463-7"))
        #expect(weight["valueQuantity"]?["value"] == .number("72.5") && weight["valueQuantity"]?["code"]?.stringValue == "kg"
            && weight["valueQuantity"]?["system"]?.stringValue == "http://unitsofmeasure.org")
        #expect(observation("8310-5")?["valueQuantity"]?["code"]?.stringValue == "Cel")
        let bp = try #require(observation("85354-9"))
        let components = bp["component"]?.arrayValue ?? []
        #expect(components.map { $0["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue } == ["8480-6", "8462-4"])
        #expect(components.map { $0["valueQuantity"]?["value"] } == [.number("130"), .number("85")])
        #expect(components.allSatisfy { $0["valueQuantity"]?["code"]?.stringValue == "mm[Hg]" })
        #expect(observation("8480-6") == nil)
        // Composition: 34108-1, SOAP sections with escaped narrative, entries to the vitals and diagnoses
        let note = try #require(all("Composition").first)
        #expect(note["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "34108-1")
        #expect(note["status"]?.stringValue == "final" && note["author"]?.arrayValue?.first?["reference"]?.stringValue == "Practitioner/dra")
        let sections = note["section"]?.arrayValue ?? []
        #expect(sections.compactMap { $0["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue } == ["61150-9", "61149-1", "51848-0", "18776-5", "8716-3", "29548-5"])
        let subjective = sections[0]["text"]?["div"]?.stringValue ?? ""
        #expect(subjective.contains("sed &lt;y&gt; cansancio") && subjective.hasPrefix("<div xmlns=\"http://www.w3.org/1999/xhtml\">"))
        #expect(ConsultationNote.of(note) == Self.form().note)
        #expect(sections[5]["entry"]?.arrayValue?.compactMap { $0["reference"]?.stringValue } == conditionURLs)
        // Provenance: the author, every resource and the patient, the signature, CREATE
        let provenance = try #require(all("Provenance").first)
        let targets = Set((provenance["target"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue })
        let written = Set(entries.filter { $0["resource"]?["resourceType"]?.stringValue != "Provenance" }.compactMap { $0["fullUrl"]?.stringValue })
        // each resource's version 1 (the version signed), its urn:uuid kept as the target's identifier
        #expect(targets == Set(written.map { $0 + "/_history/1" }).union(["Patient/ana"]))
        let identifiers = Set((provenance["target"]?.arrayValue ?? []).compactMap { $0["identifier"]?["value"]?.stringValue })
        #expect(identifiers == written)
        #expect(written.count == 10)
        #expect(provenance["agent"]?.arrayValue?.first?["who"]?["reference"]?.stringValue == "Practitioner/dra")
        #expect(provenance["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "CREATE")
        let signature = provenance["signature"]?.arrayValue?.first
        #expect(signature?["type"]?.arrayValue?.first?["code"]?.stringValue == "1.2.840.10065.1.12.1.1" && signature?["who"]?["reference"]?.stringValue == "Practitioner/dra")
    }

    @Test func freeTextAndNoVitalsOrDiagnoses() throws {
        var f = ConsultationForm(patient: "ana")
        f.reason = "Dolor de garganta"
        f.note = ConsultationNote(freeText: "Faringe hiperémica.\nReposo y líquidos.")
        let bundle = Self.consultation.transaction(try Self.consultation.check(f), patient: "ana", author: "Practitioner/dra", organization: nil, start: nil, now: Self.now)
        let types = (bundle["entry"]?.arrayValue ?? []).compactMap { $0["resource"]?["resourceType"]?.stringValue }
        #expect(types == ["Encounter", "Composition", "Provenance"])
        let note = try #require((bundle["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }.first { $0["resourceType"]?.stringValue == "Composition" })
        #expect(note["section"]?.arrayValue?.count == 1)
        #expect(ConsultationNote.of(note).freeText == "Faringe hiperémica.\nReposo y líquidos.")
        let encounter = (bundle["entry"]?.arrayValue ?? []).first?["resource"]
        #expect(encounter?["class"]?["code"]?.stringValue == "AMB" && encounter?["diagnosis"] == nil)
    }

    @Test func badInputIsRefusedFieldByField() {
        var f = Self.form()
        f.reason = "  "
        f.note = ConsultationNote()
        f.mode = "HH"
        f.vitals["sistolica"] = "400"
        f.vitals["temperatura"] = "36,6,1"
        f.vitals["peso"] = "0.1"
        f.diagnoses = ["X99.99", "A00-B99", "I10", "i10"]
        let issues = Self.issues(f)
        let fields = issues.map { $0.expression.first ?? "" }
        #expect(Set(fields) == ["motivo", "nota", "modalidad", "sistolica", "temperatura", "peso", "diagnostico1", "diagnostico2", "diagnostico4"], "\(fields)")
        let bp = issues.first { $0.expression == ["sistolica"] }
        #expect(bp?.spanish.contains("400") == true && bp?.spanish.contains("imposible") == true && bp?.english.contains("between 40 and 300") == true)
        #expect(issues.first { $0.expression == ["diagnostico1"] }?.spanish.contains("no es un código del catálogo CIE-10") == true)
        #expect(issues.first { $0.expression == ["diagnostico2"] }?.english.contains("chapter or block") == true)
        #expect(issues.first { $0.expression == ["diagnostico4"] }?.english.contains("repeated") == true)
        #expect(issues.allSatisfy { !$0.english.isEmpty && !$0.spanish.isEmpty && $0.english != $0.spanish })
    }

    @Test func bloodPressureNeedsBothAndTheDiastolicBelow() {
        var f = Self.form()
        f.vitals["diastolica"] = ""
        #expect(Self.issues(f).map(\.expression) == [["diastolica"]])
        f.vitals["diastolica"] = "140"
        let issues = Self.issues(f)
        #expect(issues.map(\.expression) == [["diastolica"]] && issues.first?.english.contains("lower than the systolic") == true)
        f.vitals["sistolica"] = "300"
        #expect(Self.issues(f).isEmpty)
        f.vitals["sistolica"] = "300.1"
        #expect(Self.issues(f).map(\.expression) == [["sistolica"]])
    }

    /// Every limit is inside, its bounds accepted, just outside refused; every sign has a
    /// LOINC code, a UCUM unit and a source.
    @Test func theLimitsAreDataWithSources() {
        let limits = VitalSignLimits.embedded
        #expect(!limits.version.isEmpty)
        #expect(Set(limits.signs.map(\.loinc)) == ["29463-7", "8302-2", "8480-6", "8462-4", "8867-4", "8310-5", "2339-0"])
        for sign in limits.signs {
            #expect(sign.low < sign.high && !sign.source.isEmpty && !sign.unit.isEmpty, "\(sign.key)")
            for (value, ok) in [(sign.low, true), (sign.high, true), (sign.low - 0.01, false), (sign.high + 0.01, false)] {
                var f = ConsultationForm(patient: "ana")
                f.reason = "Control"
                f.note.freeText = "Nota"
                f.vitals[sign.key] = "\(value)"
                if sign.key == "sistolica" { f.vitals["diastolica"] = "20" }
                if sign.key == "diastolica" { f.vitals["sistolica"] = "300" }
                let fields = Self.issues(f).flatMap(\.expression)
                #expect(fields.contains(sign.key) == !ok, "\(sign.key) \(value)")
            }
        }
    }

    @Test func aCorrectionIsANewVersionWithItsReason() throws {
        let bundle = Self.consultation.transaction(try Self.consultation.check(Self.form()), patient: "ana", author: "Practitioner/dra", organization: nil,
                                                   start: nil, now: Self.now)
        let note = try #require((bundle["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }.first { $0["resourceType"]?.stringValue == "Composition" })
        var text = ConsultationNote.of(note)
        text.plan = "Ajustar metformina a 850 mg cada 12 h"
        let later = Timestamp(instant: "2026-12-02T18:00:00Z")!
        let correction = try Self.consultation.correction(of: note, id: "n1", version: 3, note: text, reason: "Dosis omitida", author: "Practitioner/dra",
                                                          organization: nil, now: later)
        let entries = correction["entry"]?.arrayValue ?? []
        #expect(entries.count == 2)
        #expect(entries[0]["request"]?["method"]?.stringValue == "PUT" && entries[0]["request"]?["url"]?.stringValue == "Composition/n1")
        #expect(entries[0]["request"]?["ifMatch"]?.stringValue == "W/\"3\"")
        let amended = try #require(entries[0]["resource"])
        #expect(amended["status"]?.stringValue == "amended" && ConsultationNote.of(amended) == text)
        // the entries of the vitals and diagnoses stay
        #expect((amended["section"]?.arrayValue ?? []).filter { $0["entry"] != nil }.count == 2)
        let provenance = try #require(entries[1]["resource"])
        #expect(provenance["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "UPDATE")
        #expect(provenance["reason"]?.arrayValue?.first?["text"]?.stringValue == "Dosis omitida")
        #expect(provenance["target"]?.arrayValue?.first?["reference"]?.stringValue == "Composition/n1/_history/4")
        #expect(provenance["entity"]?.arrayValue?.first?["what"]?["reference"]?.stringValue == "Composition/n1/_history/3")
        // no reason, an empty note, another author
        do {
            _ = try Self.consultation.correction(of: note, id: "n1", version: 3, note: ConsultationNote(), reason: " ", author: "Practitioner/dra",
                                                 organization: nil, now: later)
            Testing.Issue.record("accepted without a reason")
        } catch let e as FHIRError {
            #expect(e.status == 422 && e.issues.map(\.expression) == [["razon"], ["nota"]])
        }
        #expect(throws: FHIRError.self) {
            _ = try Self.consultation.correction(of: note, id: "n1", version: 3, note: text, reason: "x", author: "Practitioner/drb", organization: nil, now: later)
        }
    }

    @Test func codesAndNumbersAsTyped() {
        #expect(Consultation.code(" e11.9 — Diabetes") == "E11.9")
        #expect(Consultation.code("I10") == "I10")
        #expect(Consultation.decimal("72,5") == "72.5")
        #expect(Consultation.decimal("1e3") == nil && Consultation.decimal("-5") == nil && Consultation.decimal("5.") == nil && Consultation.decimal("") == nil)
        #expect(Consultation.plainText(Consultation.narrative("a & b\n<c>")["div"]?.stringValue ?? "") == "a & b\n<c>")
    }
}
