import FHIR
import Foundation
@_spi(Unguarded) import Storage
import Testing

/// On SQLite a selective filter (the compartment, `_id`, a reference to one resource, an
/// identifier) drives the query and every other filter becomes a correlated probe
/// (`SearchSQL.compileWhere`). Whatever the shape, AND must mean intersection: for every pair
/// (driver, filter) the combined search returns exactly the intersection of the two searched
/// alone — and the same count — on every backend.
@Suite("Search: a driving filter changes the plan, never the result")
struct SearchDriverTests {
    static let drivers: [(String, String)] = [
        ("Observation", "patient=Patient/ana"), ("Observation", "subject=Patient/luis"), ("Observation", "_id=glu1,hr1,note1"),
        ("Patient", "identifier=http://www.renapo.gob.mx/curp|PEGA800101MDFRRN08"), ("Observation", "patient=ana"),
    ]
    static let filters: [String: [String]] = [
        "Observation": [
            "code=http://loinc.org|2339-0", "code=2339-0,8867-4", "code:not=2339-0", "status=final", "date=ge2026-03-01",
            "date=lt2026-02-01", "value-quantity=gt6", "value-quantity=lt100|http://unitsofmeasure.org|/min", "code:text=glucosa",
            "value-quantity:missing=true", "subject:Patient.name=perez", "code-value-quantity=http://loinc.org|2339-0$gt6",
            "_lastUpdated=gt2000-01-01", "combo-code=2339-0", "_has:Observation:has-member:status=final",
        ],
        "Patient": ["name=ana", "name=perez", "gender=male", "birthdate=lt1990", "_has:Observation:subject:code=2339-0", "address-city=ciudad"],
    ]

    @Test(arguments: Backend.allCases)
    func andIsIntersection(_ backend: Backend) async throws {
        let f = try await SearchFixture(backend)
        defer { f.cleanup() }
        try await f.load()
        var nonEmpty = 0
        for (type, driver) in SearchDriverTests.drivers {
            let base = Set(try await f.search(type, driver + "&_count=100"))
            #expect(!base.isEmpty, "\(driver) finds something")
            for filter in SearchDriverTests.filters[type] ?? [] {
                let alone = Set(try await f.search(type, filter + "&_count=100", strict: false))
                let both = try await f.result(type, "\(driver)&\(filter)&_count=100", strict: false)
                let ids = Set(both.matches.map(\.id))
                #expect(ids == base.intersection(alone), "\(type)?\(driver)&\(filter)")
                #expect(both.total == ids.count, "\(type)?\(driver)&\(filter): total")
                if !ids.isEmpty { nonEmpty += 1 }
                // the other order (the driver is found wherever it stands)
                let swapped = Set(try await f.search(type, "\(filter)&\(driver)&_count=100", strict: false))
                #expect(swapped == ids, "\(type)?\(filter)&\(driver)")
            }
        }
        #expect(nonEmpty >= 10, "the pairs are not vacuous")
        // a compartment search drives too
        let (q, _) = try SearchParser().parse(types: ["Observation"], parameters: [("code", "2339-0"), ("_count", "100")])
        var inCompartment = q
        inCompartment.compartment = "ana"
        #expect(try await f.repository.search(inCompartment).matches.map(\.id).sorted() == ["glu1", "glu2"])
        inCompartment.compartment = "luis"
        #expect(try await f.repository.search(inCompartment).matches.isEmpty)
        // one filter alone is counted from the index rows (SearchSQL.countQuery): the same number
        // as the resources the search returns — also after a delete and an update
        _ = try await f.repository.delete("Observation", "glu2")
        // two names that both match one filter: two index rows, one resource
        try await f.put(#"{"resourceType":"Patient","id":"doble","name":[{"family":"Pérez"},{"family":"Pérez Ruiz"}],"gender":"male"}"#)
        try await f.put(#"{"resourceType":"Observation","id":"hr1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"subject":{"reference":"Patient/luis"}}"#)
        var counted = 0
        for (type, filters) in SearchDriverTests.filters {
            for filter in filters + SearchDriverTests.drivers.filter({ $0.0 == type }).map(\.1) {
                let found = try await f.search(type, filter + "&_count=100", strict: false)
                let count = try await f.result(type, filter + "&_summary=count", strict: false).total
                #expect(count == found.count, "\(type)?\(filter): count \(count ?? -1), found \(found.count)")
                if !found.isEmpty { counted += 1 }
            }
        }
        #expect(counted >= 10)
        // and across several types
        var (multi, _) = try SearchParser().parse(types: ["Patient", "Observation"], parameters: [("_security", "R"), ("_count", "100")])
        let multiFound = try await f.repository.search(multi).matches.count
        multi.countOnly = true
        #expect(try await f.repository.search(multi).total == multiFound)
        #expect(multiFound == 1)
    }
}
