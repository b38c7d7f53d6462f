import FHIR
import Foundation
@_spi(Unguarded) import Storage
import StorageSQLite
import Testing

/// Search semantics (https://hl7.org/fhir/R4/search.html) through the Repository and the
/// search plan, on every backend of the conformance suite.
struct SearchFixture {
    let repository: Repository
    let cleanup: @Sendable () -> Void

    init(_ backend: Backend) async throws {
        let (store, cleanup) = try await backend.make()
        let validator = Validator()
        repository = Repository(store: store, clock: SystemClock(), ids: UUIDGenerator(), validate: { validator.validate($0) })
        self.cleanup = cleanup
    }

    @discardableResult
    func put(_ json: String) async throws -> String {
        let resource = try JSONParser.parse(json)
        let type = resource["resourceType"]!.stringValue!
        let id = resource["id"]!.stringValue!
        _ = try await repository.update(type, id, resource)
        return id
    }

    func search(_ type: String, _ query: String, strict: Bool = true) async throws -> [String] {
        try await result(type, query, strict: strict).matches.map(\.id).sorted()
    }

    func result(_ type: String, _ query: String, strict: Bool = true) async throws -> SearchResult {
        var options = SearchParser.Options()
        options.strict = strict
        let pairs = query.split(separator: "&").map { p -> (String, String) in
            let kv = p.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding! }
            return (kv[0], kv.count > 1 ? kv[1] : "")
        }
        let (q, _) = try SearchParser(options: options).parse(types: [type], parameters: pairs)
        return try await repository.search(q)
    }

    /// Loads a small Mexican population used by every test.
    func load() async throws {
        try await put(#"{"resourceType":"Organization","id":"imss","name":"IMSS Unidad de Medicina Familiar 10","identifier":[{"system":"http://sinais.salud.gob.mx/clues","value":"DFIMS000012"}]}"#)
        try await put(#"{"resourceType":"Patient","id":"ana","meta":{"tag":[{"system":"http://enlace.mx/tags","code":"demo"}],"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}],"source":"http://imss.gob.mx/umf10"},"identifier":[{"system":"http://www.renapo.gob.mx/curp","value":"PEGA800101MDFRRN08","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"NI"}]}}],"name":[{"family":"Pérez","given":["Ana","María"]}],"gender":"female","birthDate":"1980-01-01","address":[{"city":"Ciudad de México","state":"CDMX"}],"managingOrganization":{"reference":"Organization/imss"}}"#)
        try await put(#"{"resourceType":"Patient","id":"luis","identifier":[{"system":"http://www.renapo.gob.mx/curp","value":"LOGL750505HJCPRS03"}],"name":[{"family":"López","given":["Luis"]}],"gender":"male","birthDate":"1975-05-05","address":[{"city":"Guadalajara","state":"Jalisco"}]}"#)
        try await put(#"{"resourceType":"Patient","id":"nina","name":[{"family":"Perezcano","given":["Nina"]}],"gender":"female","birthDate":"2020-07"}"#)
        try await put(#"{"resourceType":"Observation","id":"glu1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0","display":"Glucosa en sangre"}],"text":"Glucosa"},"subject":{"reference":"Patient/ana"},"effectiveDateTime":"2026-03-14T10:30:00-06:00","valueQuantity":{"value":5.4,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}"#)
        try await put(#"{"resourceType":"Observation","id":"glu2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"subject":{"reference":"Patient/ana"},"effectiveDateTime":"2026-06-01","valueQuantity":{"value":9.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}"#)
        try await put(#"{"resourceType":"Observation","id":"hr1","status":"preliminary","code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Frecuencia cardiaca"}]},"subject":{"reference":"Patient/luis"},"effectivePeriod":{"start":"2026-01-01T00:00:00Z","end":"2026-01-31T23:59:59Z"},"valueQuantity":{"value":72,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}"#)
        try await put(#"{"resourceType":"Observation","id":"note1","status":"final","code":{"text":"Nota libre"},"subject":{"reference":"https://otro.example.mx/fhir/Patient/luis"}}"#)
        try await put(#"{"resourceType":"RiskAssessment","id":"risk1","status":"final","subject":{"reference":"Patient/ana"},"prediction":[{"probabilityDecimal":0.25}]}"#)
        try await put(#"{"resourceType":"ValueSet","id":"vs1","url":"http://enlace.mx/fhir/ValueSet/diabetes","status":"active"}"#)
    }
}

@Suite("Search semantics")
struct SearchTests {
    func with(_ backend: Backend, _ body: (SearchFixture) async throws -> Void) async throws {
        let f = try await SearchFixture(backend)
        defer { f.cleanup() }
        try await f.load()
        try await body(f)
    }

    @Test(arguments: Backend.allCases)
    func strings(_ backend: Backend) async throws {
        try await with(backend) { (f: SearchFixture) async throws in
            #expect(try await f.search("Patient", "name=perez") == ["ana", "nina"])      // starts-with, accent-insensitive
            #expect(try await f.search("Patient", "name=PÉREZ") == ["ana", "nina"])
            #expect(try await f.search("Patient", "family:exact=Pérez") == ["ana"])
            #expect(try await f.search("Patient", "family:exact=perez") == [])
            #expect(try await f.search("Patient", "family:contains=rezc") == ["nina"])
            #expect(try await f.search("Patient", "given=mar") == ["ana"])
            #expect(try await f.search("Patient", "address-city=ciudad%20de") == ["ana"])
            #expect(try await f.search("Patient", "name=ana&name=perez") == ["ana"])      // repeated = AND
            #expect(try await f.search("Patient", "name=luis,nina") == ["luis", "nina"])  // comma = OR
        }
    }

    @Test(arguments: Backend.allCases)
    func tokens(_ backend: Backend) async throws {
        try await with(backend) { (f: SearchFixture) async throws in
            #expect(try await f.search("Patient", "gender=female") == ["ana", "nina"])
            #expect(try await f.search("Patient", "gender=male,female") == ["ana", "luis", "nina"])
            #expect(try await f.search("Patient", "identifier=http://www.renapo.gob.mx/curp|PEGA800101MDFRRN08") == ["ana"])
            #expect(try await f.search("Patient", "identifier=PEGA800101MDFRRN08") == ["ana"])
            #expect(try await f.search("Patient", "identifier=|PEGA800101MDFRRN08") == [])
            #expect(try await f.search("Patient", "identifier=http://www.renapo.gob.mx/curp|") == ["ana", "luis"])
            #expect(try await f.search("Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|NI|PEGA800101MDFRRN08") == ["ana"])
            #expect(try await f.search("Observation", "code=http://loinc.org|2339-0") == ["glu1", "glu2"])
            #expect(try await f.search("Observation", "code:not=http://loinc.org|2339-0") == ["hr1", "note1"])
            #expect(try await f.search("Observation", "code:text=glucosa") == ["glu1"])
            #expect(try await f.search("Observation", "status=final&code=2339-0") == ["glu1", "glu2"])
            #expect(try await f.search("Patient", "_tag=http://enlace.mx/tags|demo") == ["ana"])
            #expect(try await f.search("Patient", "_security=R") == ["ana"])
            #expect(try await f.search("Patient", "_id=ana,luis") == ["ana", "luis"])
        }
    }

    @Test(arguments: Backend.allCases)
    func references(_ backend: Backend) async throws {
        try await with(backend) { (f: SearchFixture) async throws in
            #expect(try await f.search("Observation", "subject=Patient/ana") == ["glu1", "glu2"])
            #expect(try await f.search("Observation", "subject=ana") == ["glu1", "glu2"])
            #expect(try await f.search("Observation", "subject:Patient=luis") == ["hr1", "note1"])
            #expect(try await f.search("Observation", "patient=https://otro.example.mx/fhir/Patient/luis") == ["hr1", "note1"])
            #expect(try await f.search("Patient", "organization=Organization/imss") == ["ana"])
            #expect(try await f.search("Observation", "subject:missing=true") == [])
        }
    }

    @Test(arguments: Backend.allCases)
    func dates(_ backend: Backend) async throws {
        try await with(backend) { (f: SearchFixture) async throws in
            #expect(try await f.search("Patient", "birthdate=1980") == ["ana"])
            #expect(try await f.search("Patient", "birthdate=1980-01-01") == ["ana"])
            #expect(try await f.search("Patient", "birthdate=eq1980-01") == ["ana"])
            #expect(try await f.search("Patient", "birthdate=ne1980") == ["luis", "nina"])
            #expect(try await f.search("Patient", "birthdate=gt1979") == ["ana", "nina"])
            #expect(try await f.search("Patient", "birthdate=lt1980") == ["luis"])
            #expect(try await f.search("Patient", "birthdate=ge1980-01-01") == ["ana", "nina"])
            #expect(try await f.search("Patient", "birthdate=le1980-01-01") == ["ana", "luis"])
            #expect(try await f.search("Patient", "birthdate=sa2000") == ["nina"])
            #expect(try await f.search("Patient", "birthdate=eb1976") == ["luis"])
            #expect(try await f.search("Patient", "birthdate=ap1975-05-06") == ["luis"])
            // the data's precision: 2020-07 is the whole month
            #expect(try await f.search("Patient", "birthdate=2020") == ["nina"])
            #expect(try await f.search("Patient", "birthdate=2020-07-15") == [])
            #expect(try await f.search("Patient", "birthdate=ge2020-07-15") == ["nina"])
            // time zones: 10:30 -06:00 is 16:30 UTC
            #expect(try await f.search("Observation", "date=2026-03-14T16:30:00Z") == ["glu1"])
            #expect(try await f.search("Observation", "date=gt2026-03-14T16:31:00Z&code=2339-0") == ["glu2"])
            // periods
            #expect(try await f.search("Observation", "date=2026-01-15") == [])
            #expect(try await f.search("Observation", "date=ge2026-01-15&date=le2026-01-20") == ["hr1"])
            #expect(try await f.search("Observation", "date=2026-01") == ["hr1"])
        }
    }

    @Test(arguments: Backend.allCases)
    func numbersQuantitiesURIsComposites(_ backend: Backend) async throws {
        try await with(backend) { (f: SearchFixture) async throws in
            #expect(try await f.search("RiskAssessment", "probability=0.25") == ["risk1"])
            #expect(try await f.search("RiskAssessment", "probability=gt0.2") == ["risk1"])
            #expect(try await f.search("RiskAssessment", "probability=lt0.2") == [])
            #expect(try await f.search("Observation", "value-quantity=5.4|http://unitsofmeasure.org|mmol/L") == ["glu1"])
            #expect(try await f.search("Observation", "value-quantity=gt5||mmol/L") == ["glu1", "glu2"])
            #expect(try await f.search("Observation", "value-quantity=ge9.1") == ["glu2", "hr1"])
            #expect(try await f.search("Observation", "value-quantity=le6") == ["glu1"])
            #expect(try await f.search("Observation", "value-quantity=ap70") == ["hr1"])
            #expect(try await f.search("Observation", "value-quantity:missing=true") == ["note1"])
            #expect(try await f.search("Observation", "value-quantity:missing=false") == ["glu1", "glu2", "hr1"])
            #expect(try await f.search("ValueSet", "url=http://enlace.mx/fhir/ValueSet/diabetes") == ["vs1"])
            #expect(try await f.search("ValueSet", "url:below=http://enlace.mx/fhir") == ["vs1"])
            #expect(try await f.search("ValueSet", "url:above=http://enlace.mx/fhir/ValueSet/diabetes/extra") == ["vs1"])
            #expect(try await f.search("ValueSet", "url=http://enlace.mx/fhir") == [])
            #expect(try await f.search("Observation", "code-value-quantity=http://loinc.org|2339-0$gt6") == ["glu2"])
            #expect(try await f.search("Observation", "code-value-quantity=2339-0$lt6,8867-4$gt70") == ["glu1", "hr1"])
        }
    }

    @Test(arguments: Backend.allCases)
    func chainsHasAndSpecials(_ backend: Backend) async throws {
        try await with(backend) { (f: SearchFixture) async throws in
            #expect(try await f.search("Observation", "subject:Patient.name=perez") == ["glu1", "glu2"])
            #expect(try await f.search("Observation", "patient.gender=male") == ["hr1", "note1"])  // absolute URLs index as Type/id
            #expect(try await f.search("Observation", "subject:Patient.organization.name=imss") == ["glu1", "glu2"])  // two levels
            #expect(try await f.search("Patient", "_has:Observation:patient:code=2339-0") == ["ana"])
            #expect(try await f.search("Patient", "_has:Observation:subject:status=preliminary") == ["luis"])
            #expect(try await f.search("Patient", "_lastUpdated=gt2000-01-01") == ["ana", "luis", "nina"])
            #expect(try await f.search("Patient", "_lastUpdated=lt2000-01-01") == [])
            #expect(try await f.search("Patient", "_content=guadalajara") == ["luis"])
        }
    }

    @Test(arguments: Backend.allCases)
    func includesSortPagingAndTotals(_ backend: Backend) async throws {
        try await with(backend) { (f: SearchFixture) async throws in
            let inc = try await f.result("Observation", "code=2339-0&_include=Observation:subject")
            #expect(inc.matches.map(\.id).sorted() == ["glu1", "glu2"])
            #expect(inc.included.map(\.id) == ["ana"])
            let iter = try await f.result("Observation", "_id=glu1&_include=Observation:subject&_include:iterate=Patient:organization")
            #expect(Set(iter.included.map(\.id)) == ["ana", "imss"])
            let rev = try await f.result("Patient", "_id=ana&_revinclude=Observation:subject")
            #expect(rev.included.map(\.id).sorted() == ["glu1", "glu2"])

            #expect(try await f.result("Patient", "_sort=birthdate").matches.map(\.id) == ["luis", "ana", "nina"])
            #expect(try await f.result("Patient", "_sort=-birthdate").matches.map(\.id) == ["nina", "ana", "luis"])
            #expect(try await f.result("Patient", "_sort=gender,-birthdate").matches.map(\.id) == ["nina", "ana", "luis"])
            #expect(try await f.result("Patient", "_sort=family").matches.map(\.id) == ["luis", "ana", "nina"])

            // keyset paging forwards and backwards, stable while data changes
            let p1 = try await f.result("Patient", "_sort=birthdate&_count=2")
            #expect(p1.matches.map(\.id) == ["luis", "ana"])
            #expect(p1.total == 3)
            #expect(p1.hasMore)
            try await f.put(#"{"resourceType":"Patient","id":"aaa","birthDate":"1900"}"#)  // sorts before the cursor
            let cursor = SearchCursor(keys: p1.sortValues.last!, type: "Patient", id: "ana", direction: .next)
            let p2 = try await f.result("Patient", "_sort=birthdate&_count=2&_cursor=\(SearchCursorCodec.encode(cursor))")
            #expect(p2.matches.map(\.id) == ["nina"])
            #expect(!p2.hasMore)
            let back = SearchCursor(keys: p2.sortValues.first!, type: "Patient", id: "nina", direction: .previous)
            let p0 = try await f.result("Patient", "_sort=birthdate&_count=2&_cursor=\(SearchCursorCodec.encode(back))")
            #expect(p0.matches.map(\.id) == ["luis", "ana"])
            #expect(p0.hasPrevious)

            #expect(try await f.result("Patient", "_total=none").total == nil)
            let count = try await f.result("Patient", "_summary=count&gender=female")
            #expect(count.total == 2)
            #expect(count.matches.isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func malformedInputIsA400(_ backend: Backend) async throws {
        try await with(backend) { (f: SearchFixture) async throws in
            for q in ["birthdate=1980-13", "birthdate=xx1980", "birthdate=tomorrow", "subject:Patient.nombre=x", "subject.bogus.name=x",
                      "_count=-1", "_count=abc", "value-quantity=abc", "gender:exact=female", "name:missing=maybe", "_sort=nonsense",
                      "_include=Observation:nonsense", "_has:Observation:nope:code=1", "code-value-quantity=2339-0", "_cursor=bogus",
                      "unknownparam=1", "code:in=http://x"] {
                let type = q.hasPrefix("birth") || q.hasPrefix("name") || q.hasPrefix("gender") || q.hasPrefix("_has") ? "Patient" : "Observation"
                await #expect(throws: FHIRError.self, "\(q)") { try await f.search(type, q) }
            }
            // lenient handling ignores unknown parameters
            #expect(try await f.search("Patient", "unknownparam=1&gender=male", strict: false) == ["luis"])
            // too many parameters
            let many = (0..<10_000).map { "name=a\($0)" }.joined(separator: "&")
            await #expect(throws: FHIRError.self) { try await f.search("Patient", many) }
        }
    }
}
