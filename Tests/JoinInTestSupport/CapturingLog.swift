public import Logging
import Synchronization

/// Collects every log line (message, metadata, error) at any level, so tests can look for secrets
/// in what the server would have written.
public final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    public var text: String { lines.withLock { $0.joined(separator: "\n") } }
    public var count: Int { lines.withLock { $0.count } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    /// A logger at `level` (trace by default) that writes into this capture.
    public func logger(label: String = "joinin-capture", level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { label in CapturingLogHandler(capture: self, label: label) }
        logger.logLevel = level
        return logger
    }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    let label: String
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        for (key, value) in metadataProvider?.get() ?? [:] { all[key] = value }
        for (key, value) in event.metadata ?? [:] { all[key] = value }
        let error = event.error.map { " error=\(String(reflecting: $0))" } ?? ""
        capture.append("\(event.level) \(label): \(event.message) \(all)\(error)")
    }
}
