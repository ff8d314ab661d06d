import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 keep-alive client for the benchmark's loopback calls: one connection, one
/// request at a time, requests fed through a stream to the task that owns the channel. (The
/// production binary links no test framework; this is all the bench needs.)
final class LoopbackHTTPConnection: Sendable {
    struct Response: Sendable {
        let status: Int
        let body: ByteBuffer
    }

    private struct Job: Sendable {
        let method: HTTPMethod
        let path: String
        let headers: [(String, String)]
        let body: ByteBuffer
        let answer: CheckedContinuation<Response, any Error>
    }

    private let jobs: AsyncStream<Job>.Continuation
    private let task: Task<Void, any Error>

    /// Connects to `host`:`port` (default 127.0.0.1); the connection lives until `close()`.
    init(host: String = "127.0.0.1", port: Int) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        let (stream, continuation) = AsyncStream.makeStream(of: Job.self)
        jobs = continuation
        task = Task {
            try await channel.executeThenClose { inbound, outbound in
                var responses = inbound.makeAsyncIterator()
                for await job in stream {
                    do {
                        var headers = HTTPHeaders(job.headers)
                        headers.add(name: "Host", value: "127.0.0.1")
                        headers.add(name: "Content-Length", value: String(job.body.readableBytes))
                        try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: job.method, uri: job.path, headers: headers)))
                        try await outbound.write(.body(.byteBuffer(job.body)))
                        try await outbound.write(.end(nil))
                        var status = 0
                        var body = ByteBuffer()
                        reading: while let part = try await responses.next() {
                            switch part {
                            case .head(let head): status = Int(head.status.code)
                            case .body(var chunk): body.writeBuffer(&chunk)
                            case .end: break reading
                            }
                        }
                        job.answer.resume(returning: Response(status: status, body: body))
                    } catch {
                        job.answer.resume(throwing: error)
                        throw error
                    }
                }
            }
        }
    }

    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)], body: ByteBuffer) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            let result = jobs.yield(Job(method: method, path: path, headers: headers, body: body, answer: continuation))
            if case .terminated = result {
                continuation.resume(throwing: ChannelError.ioOnClosedChannel)
            }
        }
    }

    /// Ends the connection and waits for its task.
    func close() async {
        jobs.finish()
        _ = try? await task.value
    }
}
