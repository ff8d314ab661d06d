import Logging

/// The process's log handler: swift-log's `StreamLogHandler` on standard error, same lines, but
/// the logger's own metadata is rendered only when a message is written. `StreamLogHandler`
/// renders it whenever it changes, and Hummingbird sets a request id on every request's logger:
/// that rendering was ~1% of the server's CPU on a request that logs nothing (perf,
/// docs/performance.md).
///
/// The logger's metadata goes to the wrapped handler with each message, merged under the
/// message's own (a `LoggingSystem.metadataProvider`, which JoinIn does not set, would rank below
/// both instead of between them).
struct DeferredMetadataLogHandler: LogHandler {
    private var stream: StreamLogHandler
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        stream = StreamLogHandler.standardError(label: label)
    }

    init(label: String, stream output: any TextOutputStream & Sendable) {
        stream = StreamLogHandler(label: label, stream: output)
    }

    var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { stream.metadataProvider }
        set { stream.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty {
            event.metadata = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit }
        }
        stream.log(event: event)
    }
}

extension JoinInCommand {
    /// Makes `DeferredMetadataLogHandler` the process's log handler; once, before any logger is
    /// made (the executable's entry point; tests keep swift-log's default).
    public static func bootstrapLogging() {
        LoggingSystem.bootstrap(DeferredMetadataLogHandler.init(label:))
    }
}
