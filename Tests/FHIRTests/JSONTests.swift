import Testing
@testable import FHIR

@Suite struct JSONTests {
    @Test func parsesMembersInOrder() throws {
        let json = try JSONParser.parse(#"{"b":1,"a":[true,false,null],"c":{"d":"x"}}"#)
        #expect(json.objectValue?.map(\.0) == ["b", "a", "c"])
        #expect(json["a"] == .array([.bool(true), .bool(false), .null]))
        #expect(json["c"]?["d"] == .string("x"))
    }

    @Test func rejectsDuplicateMemberNames() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(#"{"a":1,"a":2}"#) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(#"{"x":{"a":1,"b":2,"a":3}}"#) }
        // Same name in different objects is fine.
        #expect((try? JSONParser.parse(#"[{"a":1},{"a":2}]"#)) != nil)
    }

    @Test func duplicateErrorNamesTheMemberAndPosition() {
        do {
            _ = try JSONParser.parse("{\"a\":1,\n\"a\":2}")
            Testing.Issue.record("duplicate accepted")
        } catch {
            #expect(error.message.contains("'a'"))
            #expect(error.line == 2)
            #expect(error.column == 1)
        }
    }

    @Test func rejectsDeepNestingWithoutCrashing() {
        let deepArrays = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deepArrays) }
        let deepObjects = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deepObjects) }
        // Unterminated deep nesting is rejected too.
        #expect(throws: JSONParseError.self) { try JSONParser.parse(String(repeating: "[", count: 10_000)) }
    }

    @Test func depthLimitIsExact() throws {
        let ok = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect((try? JSONParser.parse(ok)) != nil)
        let tooDeep = String(repeating: "[", count: 101) + String(repeating: "]", count: 101)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(tooDeep) }
        #expect((try? JSONParser.parse(tooDeep, maxDepth: 101)) != nil)
    }

    @Test func rejectsInvalidUTF8() throws {
        let cases: [[UInt8]] = [
            [0x22, 0xFF, 0x22],                    // never valid
            [0x22, 0xC3, 0x22],                    // truncated 2-byte sequence
            [0x22, 0xC0, 0xAF, 0x22],              // overlong '/'
            [0x22, 0xED, 0xA0, 0x80, 0x22],        // UTF-8 encoded surrogate
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // beyond U+10FFFF
        ]
        for bytes in cases {
            #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
        }
        #expect(try JSONParser.parse([0x22, 0xC3, 0xB1, 0x22]) == .string("ñ"))
    }

    @Test func rejectsLoneSurrogates() throws {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(#""\ud800""#) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(#""\udc00""#) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(#""\ud800x""#) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(#""\ud800\u0041""#) }
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func keepsNumberText() throws {
        let json = try JSONParser.parse(#"[1.50, 0.1, -0, 1e400, 12345678901234567890.123456789, 2E-3]"#)
        #expect(json == .array([.number("1.50"), .number("0.1"), .number("-0"), .number("1e400"),
                                .number("12345678901234567890.123456789"), .number("2E-3")]))
        #expect(json.compactString == "[1.50,0.1,-0,1e400,12345678901234567890.123456789,2E-3]")
    }

    @Test func rejectsInvalidNumbers() {
        for text in ["01", "1.", ".5", "+1", "1e", "-", "1.5e+", "NaN", "Infinity", "0x10"] {
            #expect(throws: JSONParseError.self, "\(text)") { try JSONParser.parse(text) }
        }
    }

    @Test func rejectsMalformedDocuments() {
        for text in ["", "   ", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "tru", "nul", "[1] 2", "\"a\nb\"", "\"\\x\"", "{\"a\" 1}"] {
            #expect(throws: JSONParseError.self, "\(text)") { try JSONParser.parse(text) }
        }
    }

    @Test func roundTripsCompactText() throws {
        let text = #"{"resourceType":"Patient","name":[{"given":["Ana","María"]}],"x":1.50,"y":null,"z":[true,false],"s":"a\"b\\c\nd\te\u0001"}"#
        let json = try JSONParser.parse(text)
        #expect(json.compactString == text)
        #expect(try JSONParser.parse(json.serialized()) == json)
        #expect(try JSONParser.parse(json.prettySerialized()) == json)
    }

    @Test func roundTripsUnicodeAndEscapes() throws {
        let original = JSON.object([
            ("ñ", .string("José 😀 \u{7F} / \u{0} \u{1F}")),
            ("empty", .object([])),
            ("list", .array([])),
        ])
        let again = try JSONParser.parse(original.serialized())
        #expect(again == original)
    }

    @Test func toleratesByteOrderMark() throws {
        #expect(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) == .object([]))
    }
}
