import Testing
@_spi(Unguarded) import Trust

@Suite("SMART scopes")
struct ScopeTests {
    @Test func v2AndV1Forms() {
        let s = ScopeSet("system/Patient.rs system/Observation.cud patient/*.read openid fhirUser")
        #expect(s.allows(.read, on: "Patient", context: .system))
        #expect(s.allows(.search, on: "Patient", context: .system))
        #expect(!s.allows(.create, on: "Patient", context: .system))
        #expect(s.allows(.create, on: "Observation", context: .system))
        #expect(!s.allows(.read, on: "Observation", context: .system))
        #expect(s.allows(.read, on: "Condition", context: .patient))
        #expect(!s.allows(.read, on: "Condition", context: .system))
        #expect(s.other == ["openid", "fhirUser"])
        #expect(ScopeSet("system/*.*").allows(.delete, on: "Anything", context: .system))
        #expect(ScopeSet("system/*.write").allows(.update, on: "Patient", context: .system))
        #expect(!ScopeSet("system/*.write").allows(.read, on: "Patient", context: .system))
    }

    @Test func malformedScopesGrantNothing() {
        for text in ["system/Patient.sr", "system/Patient.rr", "system/Patient.x", "system/Patient.", "system/Pat-ient.r",
                     "system/Observation.rs?category=laboratory", "admin/*.*", "system*.*", ""] {
            let s = ScopeSet(text)
            #expect(s.scopes.isEmpty, "\(text)")
        }
    }
}
