import FHIR

/// The JSON parser and the R4 validator on arbitrary bytes: parse (depth-limited), serialize
/// what parsed and parse that again — it must give the same value — then validate it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let value = try? JSONParser.parse(bytes, maxDepth: 100) else { return 0 }
    let again = try? JSONParser.parse(value.serialized(), maxDepth: 101)
    precondition(again == value, "serialize → parse changed the value")
    if value["resourceType"]?.stringValue != nil { _ = Validator().validate(value) }
    return 0
}

/// Loads the R4 definitions once before fuzzing (seconds under AddressSanitizer), so the first
/// input is not reported as a hang.
@_cdecl("LLVMFuzzerInitialize")
public func initializeFuzzJSON(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    _ = Validator().validate(try! JSONParser.parse(#"{"resourceType":"Patient","active":true}"#))
    return 0
}
