import Foundation
import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

/// One operation of the bundled OpenAPI document, as the line-based reader below sees it.
struct OpenAPIDocumentedOperation: Sendable, Hashable {
    let method: String
    let path: String
    var operationID: String?
    var hasResponses = false
    var responseCodes: [String] = []
    /// `security: []` on the operation: callable without credentials.
    var isPublic = false
    var hasParameters = false
    var hasRequestBody = false

    var key: String { "\(method) \(path)" }

    /// An operation with no credentials, no parameters and no body has no input a client can
    /// get wrong, so it need not declare a 4xx (the liveness, readiness and metrics probes).
    var takesNoInput: Bool { isPublic && !hasParameters && !hasRequestBody }
}

let openAPIMethods: Set<String> = ["get", "post", "put", "patch", "delete"]

/// Reads the operations from the spec text without a YAML library: paths are the 2-space keys
/// under `paths:` that start with `/`, methods the 4-space keys under them; the operation's own
/// members are 6-space keys, and its response status codes 8-space keys under `responses:`.
func openAPIOperations(in text: String) -> [OpenAPIDocumentedOperation] {
    var operations: [OpenAPIDocumentedOperation] = []
    var inPaths = false
    var path: String?
    var current: OpenAPIDocumentedOperation?
    var inResponses = false

    func finish() {
        if let done = current { operations.append(done) }
        current = nil
        inResponses = false
    }

    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let line = String(rawLine)
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
        let indent = line.prefix { $0 == " " }.count
        if indent == 0 {
            finish()
            inPaths = trimmed == "paths:"
            path = nil
            continue
        }
        guard inPaths, let key = openAPIKey(trimmed) else { continue }
        switch indent {
        case 2:
            finish()
            path = key.name.hasPrefix("/") ? key.name : nil
        case 4:
            finish()
            if let path, openAPIMethods.contains(key.name) {
                current = OpenAPIDocumentedOperation(method: key.name.uppercased(), path: path)
            }
        case 6:
            guard current != nil else { continue }
            inResponses = key.name == "responses"
            switch key.name {
            case "operationId": current?.operationID = key.value.isEmpty ? nil : key.value
            case "responses": current?.hasResponses = true
            case "security": current?.isPublic = key.value == "[]"
            case "parameters": current?.hasParameters = true
            case "requestBody": current?.hasRequestBody = true
            default: break
            }
        case 8 where inResponses:
            current?.responseCodes.append(key.name)
        default:
            break
        }
    }
    finish()
    return operations
}

/// `name: value` of a YAML mapping line (quotes around the name removed), or nil for other lines.
func openAPIKey(_ trimmed: String) -> (name: String, value: String)? {
    guard !trimmed.hasPrefix("-"), let colon = trimmed.firstIndex(of: ":") else { return nil }
    var name = String(trimmed[..<colon])
    if name.count >= 2, let first = name.first, first == "'" || first == "\"", name.last == first {
        name = String(name.dropFirst().dropLast())
    }
    guard !name.isEmpty, !name.contains(" ") else { return nil }
    let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    return (name, value)
}

func openAPISpecText() throws -> String {
    try #require(OpenAPISpec.text, "openapi.yaml is not bundled with JoinInServer")
}

@Suite("OpenAPI document")
struct OpenAPISpecTests {
    @Test("the bundled spec is OpenAPI 3.1")
    func version() throws {
        #expect(try openAPISpecText().hasPrefix("openapi: 3.1"))
    }

    @Test("the spec documents exactly the operations the server serves")
    func coverage() async throws {
        let documented = openAPIOperations(in: try openAPISpecText()).map(\.key)
        #expect(Set(documented).count == documented.count, "an operation is documented twice")
        let served = try await TestStores.withStore(.sqlite) { (store: Store) async throws -> [String] in
            servedOperations(store: store, config: ServerConfig(), logger: TestStores.logger).map { "\($0.method) \($0.path)" }
        }
        #expect(!served.isEmpty)
        let missing = Set(served).subtracting(documented).sorted()
        let extra = Set(documented).subtracting(served).sorted()
        #expect(missing.isEmpty && extra.isEmpty,
                "served but missing from openapi.yaml: \(missing); in openapi.yaml but not served: \(extra)")
    }

    @Test("every operation has an operationId and declares its client errors")
    func operationShape() throws {
        let operations = openAPIOperations(in: try openAPISpecText())
        #expect(operations.count > 0)
        for operation in operations {
            #expect(operation.operationID != nil, "\(operation.key) has no operationId")
            #expect(operation.hasResponses, "\(operation.key) has no responses")
            #expect(operation.responseCodes.contains { $0.hasPrefix("2") }, "\(operation.key) declares no success response")
            if !operation.takesNoInput {
                #expect(operation.responseCodes.contains { $0.count == 3 && $0.hasPrefix("4") },
                        "\(operation.key) declares no 4xx response")
            }
        }
        let ids = operations.compactMap(\.operationID)
        #expect(Set(ids).count == ids.count, "operationIds are not unique")
    }

    @Test("the line reader finds methods, ids and status codes")
    func reader() {
        let text = """
        openapi: 3.1.0
        paths:
          /a/{id}:
            parameters: []
            get:
              operationId: getA
              responses:
                '200':
                  description: ok
                "404":
                  description: no
            delete:
              operationId: deleteA
              responses:
                '204':
                  description: gone
          /b:
            post:
              security: []
              requestBody:
                required: true
              responses:
                '201':
                  description: made
        components:
          schemas:
            X:
              type: object
        """
        let operations = openAPIOperations(in: text)
        #expect(operations.map(\.key) == ["GET /a/{id}", "DELETE /a/{id}", "POST /b"])
        #expect(operations.map(\.operationID) == ["getA", "deleteA", nil])
        #expect(operations[0].responseCodes == ["200", "404"])
        #expect(operations[2].isPublic && operations[2].hasRequestBody && !operations[2].takesNoInput)
    }
}
