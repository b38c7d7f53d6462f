import FHIR
import Foundation
@testable import Storage
import Testing

@Suite("Search index extraction")
struct IndexerTests {
    let indexer = Indexer()

    func index(_ json: String) throws -> [IndexEntry] {
        let resource = try JSONParser.parse(json)
        return indexer.entries(for: resource, type: resource["resourceType"]?.stringValue ?? "")
    }

    func rows(_ entries: [IndexEntry], _ parameter: String) -> [IndexEntry] {
        entries.filter { $0.parameter == parameter }
    }

    static func ms(_ s: String) -> Double { Double(DateRange(s)!.low) }

    func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-9 } ?? false }

    @Test func patientNames() throws {
        let e = try index(#"{"resourceType":"Patient","id":"p","name":[{"family":"Pérez","given":["José  Luis","Ana"],"prefix":["Dr."],"text":"Dr. José Pérez"}],"address":[{"line":["Av. Juárez 10"],"city":"México","postalCode":"06000"}],"gender":"male","active":true,"telecom":[{"system":"phone","value":"+52 55 1234"}]}"#)
        #expect(rows(e, "family") == [IndexEntry(parameter: "family", kind: .string, value: "perez", text: "Pérez")])
        #expect(Set(rows(e, "given").map(\.value)) == ["jose luis", "ana"])
        #expect(rows(e, "given").contains(IndexEntry(parameter: "given", kind: .string, value: "jose luis", text: "José  Luis")))
        #expect(Set(rows(e, "name").map(\.value)) == ["perez", "jose luis", "ana", "dr.", "dr. jose perez"])
        #expect(Set(rows(e, "address").map(\.value)) == ["av. juarez 10", "mexico", "06000"])
        #expect(rows(e, "address-city") == [IndexEntry(parameter: "address-city", kind: .string, value: "mexico", text: "México")])
        #expect(rows(e, "gender") == [IndexEntry(parameter: "gender", kind: .token, value: "male")])
        #expect(rows(e, "active") == [IndexEntry(parameter: "active", kind: .token, value: "true")])
        #expect(rows(e, "phone") == [IndexEntry(parameter: "phone", kind: .token, value: "+52 55 1234")])
        #expect(rows(e, "_id").isEmpty && rows(e, "_lastUpdated").isEmpty)
    }

    @Test func birthdatePrecision() throws {
        let year = try index(#"{"resourceType":"Patient","birthDate":"1980"}"#)
        #expect(rows(year, "birthdate") == [IndexEntry(parameter: "birthdate", kind: .date, low: Self.ms("1980-01-01"), high: Self.ms("1981-01-01") - 1)])
        let month = try index(#"{"resourceType":"Patient","birthDate":"1980-02"}"#)
        #expect(rows(month, "birthdate").first?.high == Self.ms("1980-03-01") - 1)
        let day = try index(#"{"resourceType":"Patient","birthDate":"1980-02-29"}"#)
        #expect(rows(day, "birthdate") == [IndexEntry(parameter: "birthdate", kind: .date, low: Self.ms("1980-02-29"), high: Self.ms("1980-03-01") - 1)])
        #expect(try rows(index(#"{"resourceType":"Patient","birthDate":"1981-02-29"}"#), "birthdate").isEmpty)
    }

    @Test func identifierTokens() throws {
        let e = try index(#"{"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.840.1.113883.4.629","value":"GORC800101HDFMDR04","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"NI"}],"text":"CURP"}},{"value":"local-1"}]}"#)
        #expect(rows(e, "identifier") == [
            IndexEntry(parameter: "identifier", kind: .token, value: "local-1"),
            IndexEntry(parameter: "identifier", kind: .token, system: "urn:oid:2.16.840.1.113883.4.629", value: "GORC800101HDFMDR04", text: "curp"),
        ])
        #expect(rows(e, "identifier:of-type") == [
            IndexEntry(parameter: "identifier:of-type", kind: .token, system: "http://terminology.hl7.org/CodeSystem/v2-0203", value: "NI|GORC800101HDFMDR04"),
        ])
        // what conditional create relies on
        let single = try index(#"{"resourceType":"Basic","identifier":[{"system":"s","value":"v"}],"code":{"text":"x"}}"#)
        #expect(rows(single, "identifier").map { [$0.system, $0.value] } == [["s", "v"]])
    }

    static let observation = #"""
    {"resourceType":"Observation","id":"o1","status":"final",
     "meta":{"tag":[{"system":"http://enlace.mx/tags","code":"piloto","display":"Piloto"}],"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}],"profile":["http://hl7.org/fhir/StructureDefinition/vitalsigns|4.0.1"],"source":"urn:enlace:hospital-a"},
     "code":{"coding":[{"system":"http://loinc.org","code":"2345-7","display":"Glucose"},{"system":"http://snomed.info/sct","code":"33747003"}],"text":"Glucosa en sangre"},
     "subject":{"reference":"Patient/p1"},
     "performer":[{"reference":"https://fhir.example.mx/r4/Practitioner/d1/_history/3"},{"reference":"urn:uuid:8f2a1c4e-0000-4000-8000-000000000001"},{"reference":"#org","identifier":{"system":"urn:clues","value":"DFSSA001"}}],
     "effectivePeriod":{"start":"2026-03-14T10:30:00Z","end":"2026-03-14T11:00:00Z"},
     "valueQuantity":{"value":5.4,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}}
    """#

    @Test func observationRows() throws {
        let e = try index(Self.observation)
        #expect(rows(e, "code") == [
            IndexEntry(parameter: "code", kind: .token, system: "http://loinc.org", value: "2345-7", text: "glucosa en sangre"),
            IndexEntry(parameter: "code", kind: .token, system: "http://snomed.info/sct", value: "33747003", text: "glucosa en sangre"),
        ])
        // `Type/id` says nothing more than system and value: no text (docs/performance.md)
        #expect(rows(e, "subject") == [IndexEntry(parameter: "subject", kind: .reference, system: "Patient", value: "p1")])
        #expect(rows(e, "patient") == rows(e, "subject").map { var x = $0; x.parameter = "patient"; return x })
        #expect(rows(e, "performer") == [
            IndexEntry(parameter: "performer", kind: .reference, value: "#org"),
            IndexEntry(parameter: "performer", kind: .reference, value: "urn:uuid:8f2a1c4e-0000-4000-8000-000000000001"),
            IndexEntry(parameter: "performer", kind: .reference, system: "Practitioner", value: "d1", text: "https://fhir.example.mx/r4/Practitioner/d1/_history/3"),
        ])
        #expect(rows(e, "performer:identifier") == [IndexEntry(parameter: "performer:identifier", kind: .token, system: "urn:clues", value: "DFSSA001")])
        let q = rows(e, "value-quantity")
        #expect(q.count == 1)
        #expect(q.first?.system == "http://unitsofmeasure.org" && q.first?.value == "mg/dL" && q.first?.text == "mg/dL")
        #expect(close(q.first?.low, 5.35) && close(q.first?.high, 5.45))
        #expect(rows(e, "date") == [IndexEntry(parameter: "date", kind: .date, low: Self.ms("2026-03-14T10:30:00Z"), high: Self.ms("2026-03-14T11:00:00Z") + 999)])
        #expect(rows(e, "status") == [IndexEntry(parameter: "status", kind: .token, value: "final")])

        // the combo-* parameters are unions of two others and have no rows of their own (UnionParameters)
        for union in UnionParameters.parts.keys { #expect(rows(e, union).isEmpty, "\(union)") }
        let composite = rows(e, "code-value-quantity")
        #expect(composite.count == 2)
        // components carry their own parameter's code (clinical-code, Observation-value-quantity)
        #expect(composite.allSatisfy { $0.kind == .composite && $0.components.count == 2 })
        #expect(composite.map { $0.components[0] } == rows(e, "code"))
        #expect(composite.allSatisfy { $0.components[1] == q[0] })

        // meta
        #expect(rows(e, "_tag") == [IndexEntry(parameter: "_tag", kind: .token, system: "http://enlace.mx/tags", value: "piloto", text: "piloto")])
        #expect(rows(e, "_security") == [IndexEntry(parameter: "_security", kind: .token, system: "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", value: "R")])
        #expect(rows(e, "_profile").map(\.value) == ["http://hl7.org/fhir/StructureDefinition/vitalsigns|4.0.1"])
        #expect(rows(e, "_source") == [IndexEntry(parameter: "_source", kind: .uri, value: "urn:enlace:hospital-a")])
    }

    @Test func openPeriodAndNumbers() throws {
        let e = try index(#"{"resourceType":"Encounter","period":{"start":"2026-01"},"participant":[{"individual":{"reference":"Practitioner/d1"}},{"individual":{"reference":"RelatedPerson/r1"}}],"length":{"value":100,"unit":"min"}}"#)
        #expect(rows(e, "date") == [IndexEntry(parameter: "date", kind: .date, low: Self.ms("2026-01-01"), high: 8.64e15)])
        #expect(rows(e, "participant").map { [$0.system, $0.value] } == [["Practitioner", "d1"], ["RelatedPerson", "r1"]])
        #expect(rows(e, "practitioner").map(\.value) == ["d1"])
        #expect(rows(e, "length").count == 1)
        #expect(close(rows(e, "length").first?.low, 99.5) && close(rows(e, "length").first?.high, 100.5))

        let r = try index(#"{"resourceType":"RiskAssessment","prediction":[{"probabilityDecimal":0.25}]}"#)
        let p = rows(r, "probability")
        #expect(p.first?.kind == .number && p.first?.value == "0.25")
        #expect(close(p.first?.low, 0.245) && close(p.first?.high, 0.255))
    }

    @Test func bundleAndCanonicals() throws {
        let b = try index(#"{"resourceType":"Bundle","type":"document","identifier":{"system":"urn:ietf:rfc:3986","value":"urn:uuid:1"},"entry":[{"fullUrl":"urn:uuid:c1","resource":{"resourceType":"Composition","id":"c1","status":"final"}}]}"#)
        #expect(rows(b, "composition") == [IndexEntry(parameter: "composition", kind: .reference, system: "Composition", value: "c1")])
        #expect(rows(b, "type") == [IndexEntry(parameter: "type", kind: .token, value: "document")])
        #expect(rows(b, "identifier").map(\.value) == ["urn:uuid:1"])
        let q = try index(#"{"resourceType":"QuestionnaireResponse","questionnaire":"http://x.mx/fhir/Questionnaire/q1|2.0","status":"completed"}"#)
        #expect(rows(q, "questionnaire") == [IndexEntry(parameter: "questionnaire", kind: .reference, system: "Questionnaire", value: "http://x.mx/fhir/Questionnaire/q1", text: "http://x.mx/fhir/Questionnaire/q1|2.0")])
        let c = try index(#"{"resourceType":"CarePlan","instantiatesCanonical":["urn:oid:1.2.3"],"status":"active","intent":"plan","subject":{"reference":"Patient/p"}}"#)
        #expect(rows(c, "instantiates-canonical") == [IndexEntry(parameter: "instantiates-canonical", kind: .reference, value: "urn:oid:1.2.3")])
        let m = try index(#"{"resourceType":"Invoice","status":"issued","totalNet":{"value":350.00,"currency":"MXN"}}"#)
        #expect(rows(m, "totalnet").map { [$0.system, $0.value] } == [["urn:iso:std:iso:4217", "MXN"]])
        #expect(close(rows(m, "totalnet").first?.low, 349.995))
    }

    @Test func conditionOnsetAge() throws {
        let e = try index(#"{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"onsetAge":{"value":52,"unit":"a","system":"http://unitsofmeasure.org","code":"a"},"abatementString":"resolved"}"#)
        let age = rows(e, "onset-age")
        #expect(age.count == 1 && age.first?.kind == .quantity && age.first?.value == "a")
        #expect(close(age.first?.low, 51.5) && close(age.first?.high, 52.5))
        #expect(rows(e, "onset-date").isEmpty)
        #expect(rows(e, "onset-info").map(\.value) == [] || rows(e, "onset-info").allSatisfy { $0.kind == .string })
    }

    @Test func fastNormalizeMatchesSearchText() {
        for s in ["  Hello   World\t", "ABC def", "", "   ", "a\nb\rc", "Ünïcode", "x-Y_z.1"] {
            let fast = IndexContext.normalizeASCII(s)
            if s.utf8.allSatisfy({ $0 < 0x80 }) { #expect(fast == SearchText.normalize(s), "\(s)") } else { #expect(fast == nil) }
        }
        #expect(IndexContext.numberRange(.number("1.5"))!.low < 1.451 && IndexContext.numberRange(.number("1.5"))!.high > 1.549)
        #expect(IndexContext.numberRange(.number("100"))!.low == 99.5)
        #expect(IndexContext.numberRange(.number("1e2"))!.low == 50)  // one significant figure
        #expect(IndexContext.numberRange(.string("nan")) == nil)
    }

    @Test func everyTypeMinimal() throws {
        for type in Definitions.r4.resourceTypes {
            let e = indexer.entries(for: .object([("resourceType", .string(type)), ("id", .string("x"))]), type: type)
            if type == "Patient" {
                // `Patient.deceased.exists() and Patient.deceased != false` is false when absent
                #expect(e == [IndexEntry(parameter: "deceased", kind: .token, value: "false")])
            } else {
                #expect(e.isEmpty, "\(type)")
            }
        }
        #expect(Definitions.r4.resourceTypes.count == 146)
        print("Indexer: \(IndexPlans.shared.byType.values.map(\.count).reduce(0, +)) parameter plans; unsupported: \(IndexPlans.shared.unsupported.count)")
        for u in IndexPlans.shared.unsupported { print("  unsupported \(u)") }
    }

    static let examplesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../ServerTests/Examples").standardizedFileURL.path

    /// Types whose only search parameters are the Resource/DomainResource ones (`_id`, `_tag`…):
    /// their examples without `meta` have nothing to index.
    static func hasOwnParameters(_ type: String) -> Bool {
        (Definitions.r4.searchParametersByType[type] ?? [:]).contains { !$0.key.hasPrefix("_") && $0.value.type != .special }
    }

    @Test func everyExample() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.examplesDirectory).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files.count == 146)
        var total = 0
        var noOwnParameters: [String] = []
        for file in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: Self.examplesDirectory + "/" + file))
            let resource = try JSONParser.parse([UInt8](data))
            let type = resource["resourceType"]?.stringValue ?? ""
            let e = indexer.entries(for: resource, type: type)
            total += e.count
            if Self.hasOwnParameters(type) || resource["meta"] != nil { #expect(!e.isEmpty, "\(file)") } else {
                #expect(e.isEmpty, "\(file)")
                noOwnParameters.append(type)
            }
            for x in e + e.flatMap(\.components) {
                #expect(!x.parameter.isEmpty, "\(file)")
                if let l = x.low, let h = x.high { #expect(l <= h, "\(file) \(x.parameter)") }
                if x.kind == .composite { #expect(!x.components.isEmpty, "\(file)") }
            }
            #expect(e == indexer.entries(for: resource, type: type), "deterministic \(file)")
        }
        print("Indexer: \(total) rows from \(files.count) examples; types without own parameters: \(noOwnParameters)")
        #expect(noOwnParameters.count <= 13)
    }

    /// Pruning `A.x | B.y | …` to the resource's own branches changes no result.
    @Test func pruningIsExact() throws {
        #expect(IndexPlans.prune("Account.subject.where(resolve() is Patient) | AllergyIntolerance.patient | (Observation.value as Quantity) | Resource.meta", to: "Observation", isResourceType: Definitions.r4.isResourceType) == "(Observation.value as Quantity) | Resource.meta")
        #expect(IndexPlans.prune("Patient.name.where(given = 'a|b' or family = 'c')", to: "Patient", isResourceType: Definitions.r4.isResourceType) == "Patient.name.where(given = 'a|b' or family = 'c')")
        var compared = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: Self.examplesDirectory).filter({ $0.hasSuffix(".json") }) {
            let resource = try JSONParser.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: Self.examplesDirectory + "/" + file))))
            let type = resource["resourceType"]!.stringValue!
            for (code, p) in Definitions.r4.searchParametersByType[type] ?? [:] {
                guard let text = p.expression, text.contains("|"), let full = try? FHIRPathExpression(text) else { continue }
                if UnionParameters.isUnion(type: type, code: code) { continue }  // no plan: read from its parts (CompactIndexTests)
                let plan = IndexPlans.shared.byType[type]?.first { $0.code == code }
                let pruned = plan?.expression.evaluate(resource) ?? []
                #expect(full.evaluate(resource).map(\.value) == pruned.map(\.value), "\(type).\(code)")
                compared += 1
            }
        }
        #expect(compared > 100)
    }

    @Test func timing() throws {
        let resource = try JSONParser.parse(Self.observation)
        _ = indexer.entries(for: resource, type: "Observation")
        let n = 2000
        let start = ContinuousClock.now
        var count = 0
        for _ in 0..<n { count += indexer.entries(for: resource, type: "Observation").count }
        let elapsed = ContinuousClock.now - start
        let us = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
        print("Indexer: \(String(format: "%.1f", us / Double(n))) µs per Observation (\(count / n) rows, debug build)")
        // of which FHIRPath evaluation of the parameters' expressions alone:
        let plans = IndexPlans.shared.byType["Observation"]!
        let evalStart = ContinuousClock.now
        var nodes = 0
        for _ in 0..<n { for p in plans { nodes += p.expression.evaluate(resource).count } }
        let evalElapsed = ContinuousClock.now - evalStart
        let evalUs = Double(evalElapsed.components.seconds) * 1e6 + Double(evalElapsed.components.attoseconds) / 1e12
        print("Indexer: \(String(format: "%.1f", evalUs / Double(n))) µs of FHIRPath evaluation (\(plans.count) parameters, \(nodes / n) nodes)")
        #expect(count > 0)
    }
}
