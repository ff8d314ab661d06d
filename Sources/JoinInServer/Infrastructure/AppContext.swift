public import Hummingbird
import NIOCore

/// Per-request context: Hummingbird's core storage plus the peer address (for login throttling).
public struct AppContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    public var requestID: String? { logger[metadataKey: "hb.request.id"]?.description }
}
