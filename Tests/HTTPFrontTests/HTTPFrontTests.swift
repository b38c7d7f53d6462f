import FHIR
import HTTPFront
import Testing

/// The parsers of a request's untrusted parts, on their own (the server's HTTP tests reach them
/// through Hummingbird; `fuzz/Sources/FuzzHTTP` feeds them decoded HTTP/1.1 streams).
@Suite struct HTTPFrontTests {
    @Test func queryPairsKeepOrderRepeatsAndDecodePlusAndPercent() throws {
        let pairs = try FormEncoding.pairs("name=Ana+Mar%C3%ADa&gender=female&name=L%C3%B3pez&&flag&=x")
        #expect(pairs.map(\.0) == ["name", "gender", "name", "flag", ""])
        #expect(pairs.map(\.1) == ["Ana María", "female", "López", "", "x"])
        #expect(try FormEncoding.pairs("").isEmpty)
    }

    @Test func brokenPercentEncodingIsA400NamingThePart() {
        #expect(throws: FHIRError.self) { try FormEncoding.pairs("name=%E0%A4%A") }
        do {
            _ = try FormEncoding.pairs("ok=1&family=%zz")
        } catch let error as FHIRError {
            #expect(error.status == 400)
            #expect(error.description.contains("%zz"))
        } catch {
            Issue.record("threw \(error)")
        }
    }

    @Test func uniqueFieldsRefuseARepeatedParameterOrBrokenEncoding() {
        #expect(FormEncoding.uniqueFields("grant_type=client_credentials&scope=system%2F*.read") == ["grant_type": "client_credentials", "scope": "system/*.read"])
        #expect(FormEncoding.uniqueFields("code=a&code=b") == nil)
        #expect(FormEncoding.uniqueFields("code=%") == nil)
        #expect(FormEncoding.isForm("application/x-www-form-urlencoded; charset=utf-8"))
        #expect(!FormEncoding.isForm("application/fhir+json"))
    }

    @Test func onlyJSONIsServedAndQZeroExcludes() {
        #expect(ContentNegotiation.acceptsJSON("text/html;q=0.9, application/json;q=0.8"))
        #expect(ContentNegotiation.acceptsJSON("*/*"))
        #expect(!ContentNegotiation.acceptsJSON("application/fhir+json;q=0, text/html"))
        #expect(!ContentNegotiation.acceptsJSON("application/fhir+xml"))
        #expect(ContentNegotiation.formatIsJSON("application/fhir+json; fhirversion=4.0"))
        #expect(throws: Never.self) { try ContentNegotiation.checkResponseFormat(format: "JSON", accept: nil) }
        #expect(throws: ContentNegotiation.notAcceptable("xml")) { try ContentNegotiation.checkResponseFormat(format: "XML", accept: nil) }
        #expect(throws: ContentNegotiation.notAcceptable("text/csv")) { try ContentNegotiation.checkResponseFormat(format: nil, accept: "Text/CSV") }
    }

    @Test func aBodyIsFHIRJSONOrA415() {
        #expect(throws: Never.self) { try ContentNegotiation.checkBodyMediaType("application/fhir+json; charset=utf-8") }
        #expect(throws: Never.self) { try ContentNegotiation.checkBodyMediaType("application/json") }
        for type in ["application/fhir+xml", "text/plain", ""] {
            #expect { try ContentNegotiation.checkBodyMediaType(type) } throws: { ($0 as? FHIRError)?.status == 415 }
        }
    }

    @Test func theBearerSchemeInAnyCaseAndItsTokenTrimmed() {
        #expect(Credentials.bearerToken("Bearer abc.def.ghi") == "abc.def.ghi")
        #expect(Credentials.bearerToken("bEARER   abc ") == "abc")
        #expect(Credentials.bearerToken("Basic dXNlcjpwYXNz") == nil)
        #expect(Credentials.bearerToken("Bearer") == nil)
        #expect(Credentials.cookie("lang", in: ["a=1; lang = en ", "lang=es"]) == "en")
        #expect(Credentials.cookie("enlace_portal", in: ["enlace_portal_csrf=x"]) == nil)
        #expect(Credentials.purposeOfUse(" ETREAT ") == "ETREAT")
        #expect(Credentials.purposeOfUse("treat") == nil)
        #expect(Credentials.purposeOfUse(String(repeating: "A", count: 21)) == nil)
    }

    @Test func preferAndIfMatch() throws {
        #expect(Preferences.returnPreference("handling=strict; return=\"minimal\"") == "minimal")
        #expect(Preferences.returnPreference("return=OperationOutcome, respond-async") == "OperationOutcome")
        #expect(Preferences.returnPreference("respond-async") == nil)
        #expect(Preferences.strictHandling("handling = strict"))
        #expect(!Preferences.strictHandling("handling=lenient"))
        #expect(try Preconditions.version(ifMatch: #" W/"3" "#) == 3)
        #expect(try Preconditions.version(ifMatch: "12") == 12)
        for bad in [#"W/"0""#, #""abc""#, "", #"W/"-1""#] {
            #expect { try Preconditions.version(ifMatch: bad) } throws: { ($0 as? FHIRError)?.status == 400 }
        }
    }
}
