public import JoinInCore
public import JoinInStore

/// Importing a city's policy and catalogue: shared by the admin API and the CLI
/// (`joinin health import-policy` / `import-catalogue`), so both validate alike and both audit.
public enum HealthImport {
    /// Validates a policy document whole and stores it as the next version of its city and year.
    /// `expected` (from the API path) must agree with the document.
    public static func importPolicy(store: Store, bytes: [UInt8], expected: (city: String, year: Int)?, actor: String,
                                    nowMs: Int64) async throws -> (policy: MedicalPolicy, version: Int64) {
        let policy = try MedicalPolicy.parse(bytes)
        if let expected, expected.city != policy.cityCode || expected.year != policy.year {
            throw DomainError.malformed("health.policy_mismatch",
                                        "the document is for city \(policy.cityCode) and year \(policy.year), the path names \(expected.city)/\(expected.year)")
        }
        let body = String(decoding: bytes, as: UTF8.self)
        let version = try await store.write { tx in
            try await tx.requireCity(policy.cityCode)
            let version = try await tx.insertPolicy(policy, body: body, importedBy: actor, atMs: nowMs)
            try await tx.appendAudit(actor: actor, action: "health.policy_import", objectType: "health_policy",
                                     objectID: "\(policy.cityCode)/\(policy.year)", detail: "version=\(version)", atMs: nowMs)
            return version
        }
        return (policy, version)
    }

    /// Validates a catalogue CSV whole and stores it as the city's next version.
    public static func importCatalogue(store: Store, cityCode: String, bytes: [UInt8], actor: String,
                                       nowMs: Int64) async throws -> (version: Int64, items: Int) {
        let items = try MedicalCatalogue.parse(bytes)
        let version = try await store.write { tx in
            try await tx.requireCity(cityCode)
            let version = try await tx.insertCatalogue(cityCode: cityCode, items: items, importedBy: actor, atMs: nowMs)
            try await tx.appendAudit(actor: actor, action: "health.catalogue_import", objectType: "health_catalogue", objectID: cityCode,
                                     detail: "version=\(version) items=\(items.count)", atMs: nowMs)
            return version
        }
        return (version, items.count)
    }
}
