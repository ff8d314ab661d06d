import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInStore
import NIOCore
import Prometheus

/// Health, readiness, metrics and the served spec: public, for load balancers and integrators.
struct OperationsController: Sendable {
    let store: Store
    let registry: PrometheusCollectorRegistry?

    func register(_ r: inout RouteRegistrar) {
        r.on(.get, "/healthz", .anyone) { _, _ in
            try JSON.response(Schemas.Health(status: .ok))
        }
        r.on(.get, "/readyz", .anyone) { _, _ in
            let (ready, detail) = await store.readiness()
            return try JSON.response(Schemas.Readiness(status: ready ? .ready : .notReady, detail: detail),
                                     status: ready ? .ok : .serviceUnavailable)
        }
        r.on(.get, "/metrics", .anyone) { _, _ in
            var buffer: [UInt8] = []
            registry?.emit(into: &buffer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        r.on(.get, "/openapi.yaml", .anyone) { _, _ in
            guard let spec = OpenAPISpec.text else {
                throw HTTPError(.notFound)
            }
            return Response(status: .ok, headers: [.contentType: "application/yaml"],
                            body: .init(byteBuffer: ByteBuffer(string: spec)))
        }
    }
}

/// The OpenAPI document shipped as a resource of this module.
public enum OpenAPISpec {
    public static let text: String? = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else { return nil }
        return try? String(contentsOf: url, encoding: .utf8)
    }()
}
