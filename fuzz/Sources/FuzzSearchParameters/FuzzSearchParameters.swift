import FHIR
import Storage

/// The search-parameter parser on an arbitrary query string, for a few resource types: it
/// parses or throws, never crashes. The input is read as `a=b&c=d` (percent-decoding included).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSearchParameters(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    var parameters: [(String, String)] = []
    for pair in text.split(separator: "&", omittingEmptySubsequences: false).prefix(120) {
        let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(kv[0]).removingPercentEncoding ?? String(kv[0])
        let value = kv.count > 1 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
        parameters.append((name, value))
    }
    let types = [["Patient"], ["Observation"], ["Encounter", "Condition"]][size % 3]
    _ = try? SearchParser().parse(types: types, parameters: parameters)
    return 0
}

/// Loads the search-parameter definitions once before fuzzing (see FuzzJSON).
@_cdecl("LLVMFuzzerInitialize")
public func initializeFuzzSearchParameters(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    _ = try? SearchParser().parse(types: ["Patient"], parameters: [("name", "x")])
    return 0
}
