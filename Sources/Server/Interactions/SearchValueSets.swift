import FHIR
import Interop
import Storage
import Trust

extension FHIRAPI {
    /// At most this many stored value sets in one search's `:in` / `:not-in`.
    static let maxSearchValueSets = 8

    /// The stored ValueSets a search names with `:in` / `:not-in` (`code:in=https://…/vs/x`),
    /// read and expanded through the caller's guard (`StoredTerminology`), for the parser to
    /// turn into token filters like the shipped systems' implicit value sets (docs/search.md,
    /// *Terminology modifiers*). A url that is no stored ValueSet is left to the parser, which
    /// says what it takes.
    func storedValueSets(_ parameters: [(String, String)], guardRepo: GuardedRepository) async throws -> [String: [ValueSetMember]] {
        var out: [String: [ValueSetMember]] = [:]
        let shipped = TerminologyService.shipped
        for (name, value) in parameters where name.hasSuffix(":in") || name.hasSuffix(":not-in") {
            for url in value.split(separator: ",").map(String.init) {
                let bare = TerminologyService.bare(url)
                guard !bare.contains("?"), shipped.systems[bare] == nil, out[bare] == nil else { continue }
                guard out.count < FHIRAPI.maxSearchValueSets else {
                    throw FHIRError(status: 400, code: "too-costly",
                                    english: "a search names at most \(FHIRAPI.maxSearchValueSets) stored value sets with :in / :not-in",
                                    spanish: "una búsqueda nombra como máximo \(FHIRAPI.maxSearchValueSets) conjuntos de valores guardados con :in / :not-in")
                }
                let t = try await StoredTerminology.service(valueSet: url, fetch: StoredTerminology.fetch(through: guardRepo))
                guard t.valueSets[bare] != nil else { continue }
                out[bare] = try t.searchMembers(ofValueSet: url)
            }
        }
        return out
    }
}
