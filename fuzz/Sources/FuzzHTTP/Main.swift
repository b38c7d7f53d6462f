import FuzzSupport

// SwiftPM links an executable's entry point as FuzzHTTP_main; hand over to libFuzzer's driver.
@_cdecl("FuzzHTTP_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzHTTP(data, size) }
}
