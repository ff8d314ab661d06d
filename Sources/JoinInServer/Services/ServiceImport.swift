public import JoinInStore

/// The service catalogue import shared by the CLI (`joinin services import-catalogue`) and the API.
public enum ServiceImport {
    public static func importCatalogue(store: Store, bytes: [UInt8], actor: String, nowMs: Int64) async throws -> (version: Int, services: Int) {
        let imported = try await ServiceController.importCatalogue(store: store, bytes: bytes, actor: actor, nowMs: nowMs)
        return (imported.version, imported.services)
    }
}
