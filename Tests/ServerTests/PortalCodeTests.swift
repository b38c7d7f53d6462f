import FHIR
import Foundation
import Testing
@testable import Server
@_spi(Unguarded) import Trust

/// The portal shows coded values in the page's language, never the raw code ("Estado: active"):
/// every code of the value sets it shows has a Spanish and an English name, and the demo's pages
/// read in Spanish and in English carry no raw status code.
@Suite("Portal: coded values in the page's language")
struct PortalCodeTests {
    static let es = PortalStrings(language: .es)
    static let en = PortalStrings(language: .en)
    static let sameInSpanish: Set<String> = ["provisional"]

    /// The codes of each value set the portal shows: from the compiled R4 definitions where they
    /// are expanded there, else the R4 codes listed beside the table.
    static var displayedCodes: [(String, String)] {
        PortalStrings.displayedValueSets.flatMap { element, listed -> [(String, String)] in
            let type = String(element.split(separator: ".")[0])
            let codes = listed ?? Definitions.r4.types[type]?.elementsByPath[element]?.requiredCodes.map { Array($0).sorted() } ?? []
            return codes.map { (element, $0) }
        }
    }

    @Test func everyCodeOfTheDisplayedValueSetsHasANameInBothLanguages() {
        let codes = PortalCodeTests.displayedCodes
        #expect(codes.count > 100, "the definitions lost the value sets: \(codes.count)")
        for (element, code) in codes {
            let spanish = PortalCodeTests.es.codeName(code)
            let english = PortalCodeTests.en.codeName(code)
            // ("provisional" is the same word in Spanish)
            #expect(spanish != nil && (spanish != code || PortalCodeTests.sameInSpanish.contains(code)), "\(element) '\(code)' has no Spanish name")
            #expect(english != nil && english != code, "\(element) '\(code)' has no English name")
        }
        // the Patient compartment's types, the roles and the policy's purposes have names too
        for type in Definitions.r4.patientCompartment.keys where type != "Patient" {
            #expect(PortalCodeTests.es.typeName(type) != type, "resource type \(type) has no Spanish name")
        }
        for role in Principal.Role.allCases {
            #expect(PortalCodeTests.es.roleName(role.rawValue) != role.rawValue, "role \(role.rawValue)")
        }
        for purpose in PrivacyPolicy().secondaryPurposes + ["TREAT", "ETREAT", "HPAYMT", "PATRQT"] {
            #expect(PortalCodeTests.es.purposeName(purpose) != purpose, "purpose \(purpose)")
            #expect(PortalCodeTests.en.purposeName(purpose) != purpose, "purpose \(purpose)")
        }
    }

    @Test func aCodeableConceptWithoutTextReadsInThePageLanguage() throws {
        let clinical = try JSONParser.parse(#"{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}"#)
        #expect(PortalCodeTests.es.concept(clinical) == "activo")
        #expect(PortalCodeTests.en.concept(clinical) == "Active")
        // text wins; codes of other systems keep the data's display
        let withText = try JSONParser.parse(#"{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}],"text":"Activa"}"#)
        #expect(PortalCodeTests.en.concept(withText) == "Activa")
        let icd = try JSONParser.parse(#"{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11","display":"Diabetes mellitus tipo 2"}]}"#)
        #expect(PortalCodeTests.es.concept(icd) == "Diabetes mellitus tipo 2 (E11)")
    }

    /// Every raw code of the displayed value sets, to look for on the pages.
    static var rawCodes: Set<String> { Set(displayedCodes.map(\.1)).subtracting(sameInSpanish) }

    /// The texts after "Estado:"/"Status:" and in the definition lists of a page.
    static func shownValues(_ html: String) -> [String] {
        var out: [String] = []
        for label in ["Estado: ", "Status: "] {
            var rest = html[...]
            while let r = rest.range(of: label) {
                rest = rest[r.upperBound...]
                out.append(String(rest.prefix { $0 != "<" && $0 != ";" }).trimmingCharacters(in: .whitespaces))
            }
        }
        var rest = html[...]
        while let r = rest.range(of: "<dd>") {
            rest = rest[r.upperBound...]
            out.append(String(rest.prefix { $0 != "<" }))
        }
        return out
    }

    @Test func theDemoPagesShowNoRawCodes() async throws {
        try await PortalTests.withDemoPortal { _, browser in
            let raw = PortalCodeTests.rawCodes
            var checked = 0
            for (user, pages) in [("ana", ["/expediente", "/resumen", "/accesos", "/decisiones", "/permisos"]),
                                  ("dr.hernandez", ["/pacientes", "/pacientes/demo-p001"]),
                                  ("privacidad", ["/revisiones"])] {
                let cookie = try await browser.signIn(user)
                for page in pages {
                    for lang in ["es", "en"] {
                        let (status, html) = try await browser.get(page, cookie: cookie + "; lang=\(lang)")
                        #expect(status == .ok, "\(user) \(page) \(lang): \(status)")
                        let values = PortalCodeTests.shownValues(html)
                        checked += values.count
                        for v in values {
                            #expect(!raw.contains(v), "\(user) \(page) (\(lang)) shows the raw code '\(v)'")
                        }
                        #expect(!html.contains("Estado: active") && !html.contains("Status: active"), "\(user) \(page) \(lang)")
                    }
                }
            }
            #expect(checked > 50, "the pages showed too few values to check: \(checked)")
        }
    }
}
