import FHIR
import Foundation
@testable import Care
import Testing

// The Care module's tests (Swift Testing). HTTP-level tests of its routes live in
// Tests/ServerTests (CareCDSHooksTests), process-level ones in tests/e2e (test_care*.py).

@Suite struct KnowledgeTests {
    @Test func embeddedKnowledgeParsesAndEveryGroupHasCodesAndASource() throws {
        let v = try StudyValidity(json: try JSONParser.parse(studyValidityJSON))
        #expect(v.groups.count >= 5)
        for g in v.groups {
            #expect(!g.codes.isEmpty, "\(g.id)")
            #expect(g.days > 0, "\(g.id)")
            #expect(!g.source.isEmpty, "\(g.id)")
        }
        #expect(v.group(system: "http://loinc.org", code: "4548-4")?.days == 90)
        #expect(v.group(system: "http://loinc.org", code: "57698-3")?.days == 365)
        #expect(v.group(system: "http://loinc.org", code: "36643-5")?.days == 180)
        #expect(v.group(system: "http://loinc.org", code: "2160-0")?.days == 90)
        #expect(v.group(system: "http://snomed.info/sct", code: "4548-4") == nil)
        let m = try MedicationKnowledge(json: try JSONParser.parse(medicationKnowledgeJSON))
        #expect(!m.interactions.isEmpty && !m.allergies.isEmpty && !m.monitoring.isEmpty)
        let ids = Set(m.ingredients.map(\.id)), classes = Set(m.ingredients.flatMap(\.classes))
        for i in m.interactions {
            #expect(ids.contains(i.a) || classes.contains(i.a), "\(i.a)")
            #expect(ids.contains(i.b) || classes.contains(i.b), "\(i.b)")
            #expect(!i.source.isEmpty)
        }
        for a in m.allergies { #expect(classes.contains(a.excludes) || ids.contains(a.excludes)) }
        for r in m.monitoring { #expect(v.groups.contains { $0.id == r.study }, "\(r.study)") }
    }

    @Test func malformedKnowledgeIsRefused() {
        #expect(throws: FHIRError.self) { try StudyValidity(json: .object([("version", .string("1"))])) }
        #expect(throws: FHIRError.self) { try MedicationKnowledge(json: .object([("interaction", .array([.object([])]))])) }
    }

    func concept(_ text: String, rxnorm: String? = nil) -> JSON {
        var members: [(String, JSON)] = [("text", .string(text))]
        if let rxnorm {
            members.append(("coding", .array([.object([("system", .string("http://www.nlm.nih.gov/research/umls/rxnorm")), ("code", .string(rxnorm))])])))
        }
        return .object(members)
    }

    @Test func ingredientsAreFoundByNameWithoutAccentsAndByRxNormButNotInsideOtherWords() {
        let k = MedicationKnowledge.embedded
        #expect(k.ingredients(in: concept("Ácido acetilsalicílico 100 mg")).map(\.id) == ["aspirin"])
        #expect(k.ingredients(in: concept("WARFARINA 5mg tabletas")).map(\.id) == ["warfarin"])
        #expect(k.ingredients(in: concept("tabletas", rxnorm: "36567")).map(\.id) == ["simvastatin"])
        #expect(k.ingredients(in: concept("Paracetamol 500 mg")).isEmpty)
        // "captoprilo" is not "captopril" as a word; no substring matches
        #expect(k.ingredients(in: concept("pseudoenalaprilato")).isEmpty)
    }

    @Test func interactionsMatchByClassInEitherOrderAndAllergiesByTermOrCode() {
        let k = MedicationKnowledge.embedded
        let warfarin = k.ingredients(in: concept("Warfarina 5 mg")), ibuprofen = k.ingredients(in: concept("Ibuprofeno 400 mg"))
        #expect(k.interactions(between: warfarin, and: ibuprofen).map(\.0.severity) == ["high"])
        #expect(k.interactions(between: ibuprofen, and: warfarin).map(\.0.severity) == ["high"])
        let simva = k.ingredients(in: concept("Simvastatina 40 mg")), clari = k.ingredients(in: concept("Claritromicina 500 mg"))
        #expect(k.interactions(between: simva, and: clari).map(\.0.severity) == ["contraindicated"])
        #expect(k.interactions(between: simva, and: ibuprofen).isEmpty)
        let penicillin = k.allergyClasses(in: .object([("text", .string("Alergia a la penicilina"))]))
        #expect(penicillin.map(\.excludes) == ["penicillin"])
        let byCode = k.allergyClasses(in: .object([("coding", .array([.object([("system", .string("http://snomed.info/sct")), ("code", .string("91936005"))])]))]))
        #expect(byCode.map(\.excludes) == ["penicillin"])
        #expect(k.allergyClasses(in: .object([("text", .string("Polen"))])).isEmpty)
    }
}

@Suite struct CDSRequestTests {
    func request(_ hook: String, context: String) throws -> JSON {
        try JSONParser.parse(#"{"hook":"\#(hook)","hookInstance":"d1577c69-dfbe-44ad-ba6d-3e05e953b2ea","context":\#(context)}"#)
    }

    @Test func orderSignNeedsDraftOrdersAndOrderSelectNeedsSelections() throws {
        let sign = CDSCatalogue.service(CDSCatalogue.orderSign)!, select = CDSCatalogue.service(CDSCatalogue.duplicateStudies)!
        let bundle = #"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"ServiceRequest","id":"a"}},{"resource":{"resourceType":"ServiceRequest","id":"b"}}]}"#
        let ok = try CDSRequest(json: try request("order-sign", context: #"{"patientId":"ana","userId":"Practitioner/dra","draftOrders":\#(bundle)}"#), service: sign)
        #expect(ok.patientID == "ana" && ok.draftOrders.count == 2 && ok.ordersInQuestion.count == 2)
        let sel = try CDSRequest(json: try request("order-select", context: #"{"patientId":"Patient/ana","selections":["ServiceRequest/b"],"draftOrders":\#(bundle)}"#), service: select)
        #expect(sel.patientID == "ana" && sel.ordersInQuestion.compactMap { $0["id"]?.stringValue } == ["b"])
        func refused(_ json: JSON, _ s: CDSCatalogue.Service, at: String) {
            do {
                _ = try CDSRequest(json: json, service: s)
                Issue.record("accepted a bad request (\(at))")
            } catch let e as FHIRError {
                #expect(e.status == 400)
                #expect(e.issues.first?.expression == [at])
            } catch { Issue.record("\(error)") }
        }
        refused(try request("order-sign", context: #"{"patientId":"ana"}"#), sign, at: "context.draftOrders")
        refused(try request("patient-view", context: #"{"patientId":"ana"}"#), sign, at: "hook")
        refused(try request("order-sign", context: #"{"userId":"x","draftOrders":\#(bundle)}"#), sign, at: "context.patientId")
        refused(try request("order-sign", context: #"{"patientId":"a b","draftOrders":\#(bundle)}"#), sign, at: "context.patientId")
        refused(try request("order-select", context: #"{"patientId":"ana","draftOrders":\#(bundle)}"#), select, at: "context.selections")
        refused(try JSONParser.parse(#"{"hook":"order-sign","context":{}}"#), sign, at: "hookInstance")
    }

    @Test func feedbackIsChecked() throws {
        let ok = try CDSFeedback(json: try JSONParser.parse(#"{"feedback":[{"card":"c1","outcome":"overridden","overrideReason":{"reason":{"system":"s","code":"clinical-change"},"userComment":"cambio"},"outcomeTimestamp":"2026-11-24T12:00:00Z"}]}"#))
        #expect(ok.items.first?.userComment == "cambio" && ok.items.first?.outcome == "overridden")
        for bad in [#"{"feedback":[]}"#, #"{"feedback":[{"card":"c1","outcome":"maybe","outcomeTimestamp":"2026-11-24T12:00:00Z"}]}"#,
                    #"{"feedback":[{"card":"c1","outcome":"accepted"}]}"#,
                    #"{"feedback":[{"card":"c1","outcome":"accepted","overrideReason":{"reason":{"code":"x"}},"outcomeTimestamp":"2026-11-24T12:00:00Z"}]}"#] {
            #expect(throws: FHIRError.self, "\(bad)") { try CDSFeedback(json: try JSONParser.parse(bad)) }
        }
    }

    @Test func cardsFollowTheCDSHooksShape() throws {
        var card = Card(summary: String(repeating: "x", count: 300), detail: "d", indicator: .warning, sourceLabel: "Enlace", patient: "ana")
        card.suggestions = [Card.Suggestion(uuid: "s1", label: "Quitar", isRecommended: true, actions: [(type: "delete", description: "q", resourceIds: ["ServiceRequest/a"])])]
        card.overrideReasons = [("clinical-change", "Cambio clínico")]
        let j = card.json
        #expect((j["summary"]?.stringValue?.count ?? 999) < 140)
        #expect(j["indicator"]?.stringValue == "warning")
        #expect(j["source"]?["label"]?.stringValue == "Enlace")
        #expect(j["selectionBehavior"]?.stringValue == "at-most-one")
        #expect(j["suggestions"]?.arrayValue?.first?["actions"]?.arrayValue?.first?["resourceId"]?.arrayValue?.first?.stringValue == "ServiceRequest/a")
        #expect(j["overrideReasons"]?.arrayValue?.first?["code"]?.stringValue == "clinical-change")
        #expect(CDSCatalogue.discovery["services"]?.arrayValue?.map { $0["hook"]?.stringValue ?? "" }.sorted() == ["order-select", "order-sign", "patient-view"])
    }
}
