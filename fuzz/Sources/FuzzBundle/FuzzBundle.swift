import FHIR
import FuzzSupport
@_spi(Unguarded) import Storage
import StorageSQLite

/// Transaction and batch Bundles (`Repository.process`) on arbitrary JSON, against an in-memory
/// SQLite store: they answer or refuse, never crash or hang — and a transaction that is refused
/// leaves the store exactly as it was (the version count is compared before and after; a
/// difference aborts, which libFuzzer reports as a crash). The store is replaced every 500
/// inputs so it stays small.
enum Fixture {
    nonisolated(unsafe) static var repository = make()
    nonisolated(unsafe) static var runs = 0

    static func make() -> Repository {
        let validator = Validator()
        return Repository(store: try! SQLiteStore(), clock: SystemClock(), ids: UUIDGenerator(), validate: { validator.validate($0) })
    }

    static func versions(_ repository: Repository) async -> Int {
        (try? await repository.history(HistoryQuery(scope: .system, count: 1)).total) ?? -1
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBundle(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let bundle = try? JSONParser.parse(Array(UnsafeBufferPointer(start: data, count: size)), maxDepth: 100) else { return 0 }
    Fixture.runs += 1
    if Fixture.runs % 500 == 0 { Fixture.repository = Fixture.make() }
    let repository = Fixture.repository
    blocking {
        let before = await Fixture.versions(repository)
        do {
            _ = try await repository.process(bundle: bundle, options: .init(base: "http://enlace.example/fhir", maxEntries: 50),
                                             authorize: { _, _ in })
        } catch {
            let after = await Fixture.versions(repository)
            if bundle["type"]?.stringValue == "transaction", before != after {
                fatalError("a refused transaction changed the store: \(before) versions before, \(after) after (\(error))")
            }
        }
    }
    return 0
}

/// Loads the definitions and opens the first store before fuzzing.
@_cdecl("LLVMFuzzerInitialize")
public func initializeFuzzBundle(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let repository = Fixture.repository
    blocking { _ = await Fixture.versions(repository) }
    return 0
}

@_cdecl("FuzzBundle_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzBundle(data, size) }
}
