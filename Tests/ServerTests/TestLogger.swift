import Foundation
import Logging

/// The logger of the in-process test servers. By default it keeps only `critical` lines (tests
/// provoke errors on purpose, and their log would bury the results). With
/// `ENLACE_TEST_ERROR_LOG=<file>` (scripts/test sets it) every `error` and `critical` line is
/// appended to that file instead, so a failure seen only under load (a 503 on PostgreSQL) comes
/// with the server's own account of it; scripts/test prints the file when a Swift test fails.
enum TestLogger {
    static func make(_ label: String = "enlace-test") -> Logger {
        if let path = ProcessInfo.processInfo.environment["ENLACE_TEST_ERROR_LOG"], !path.isEmpty {
            return Logger(label: label) { _ in ErrorFileLogHandler(path: path) }
        }
        var logger = Logger(label: label)
        logger.logLevel = .critical
        return logger
    }
}

/// Appends `error`-level and worse lines to one file, shared by every test server of the process.
struct ErrorFileLogHandler: LogHandler {
    let path: String
    var logLevel: Logger.Level = .error
    var metadata: Logger.Metadata = [:]
    private static let lock = NSLock()

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let line = "\(Date().ISO8601Format()) \(event.level) \(event.message) \(fields) (\((event.file as NSString).lastPathComponent):\(event.line))\n"
        Self.lock.lock()
        defer { Self.lock.unlock() }
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data(line.utf8))
    }
}
