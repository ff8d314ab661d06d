import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import JoinInServer
import JoinInStore
import Testing

/// Store overload reaches the client as 503 `store.busy` with Retry-After, never as a 500.
@Suite("Problem mapping of store overload")
struct ProblemMappingTests {
    @Test("a full writer queue and exhausted retries answer 503 store.busy with Retry-After")
    func overload() async throws {
        let router = Router(context: AppContext.self)
        router.add(middleware: ProblemMiddleware<AppContext>())
        router.get("/full") { _, _ -> Response in throw StoreError.writerQueueFull(8_192) }
        router.get("/retries") { _, _ -> Response in throw StoreError.retriesExhausted(64) }
        try await Application(router: router).test(.router) { client in
            for path in ["/full", "/retries"] {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .serviceUnavailable, "\(path)")
                #expect(response.headers[.retryAfter] == "1", "\(path)")
                #expect(String(buffer: response.body).contains("\"code\":\"store.busy\""), "\(path)")
            }
        }
    }
}
