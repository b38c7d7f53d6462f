import FHIR

/// The FHIRPath lexer, parser and evaluator: an arbitrary expression compiled, and when it
/// compiles, evaluated against a small Patient. Never a crash, whatever the expression.
let patient = try! JSONParser.parse(#"""
    {"resourceType":"Patient","id":"p1","active":true,"gender":"female","birthDate":"1974-02-27",
     "name":[{"use":"official","family":"Torres","given":["Ana","María"]}],
     "identifier":[{"system":"urn:oid:2.16.840.1.113883.4.629","value":"TOJA740227MDFRMN02"}],
     "telecom":[{"system":"phone","value":"55 1234 5678"}],"multipleBirthInteger":2,
     "contact":[{"name":{"family":"Jiménez"},"telecom":[{"system":"email","value":"x@example.org"}]}]}
    """#)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFHIRPath(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size <= 4096 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let expression = try? FHIRPathExpression(text) else { return 0 }
    _ = expression.evaluate(patient)
    return 0
}

/// Loads the R4 definitions once before fuzzing (see FuzzJSON).
@_cdecl("LLVMFuzzerInitialize")
public func initializeFuzzFHIRPath(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    _ = try? FHIRPathExpression("Patient.name.given").evaluate(patient)
    return 0
}
