public import JoinInCore
public import JoinInStore

/// Built-in reference data loaded at every start, and the city CSV import.
public enum ReferenceData {
    /// Inserts the built-in cities that are missing; never overwrites imported or edited rows.
    @discardableResult
    public static func loadBuiltIn(store: Store, nowMs: Int64) async throws -> Int {
        try await store.write { tx in
            var inserted = 0
            for city in ChineseCities.builtIn where try await tx.city(code: city.code) == nil {
                _ = try await tx.upsertCity(code: city.code, name: LocalizedName(en: city.en, zh: city.zh), interoperable: true, atMs: nowMs)
                inserted += 1
            }
            return inserted
        }
    }

    public struct ImportSummary: Sendable, Equatable, CustomStringConvertible {
        public var inserted = 0
        public var updated = 0
        public var unchanged = 0
        public var skippedPlaceholders = 0

        public var description: String {
            "imported cities: \(inserted) inserted, \(updated) updated, \(unchanged) unchanged, \(skippedPlaceholders) placeholder rows skipped"
        }
    }

    public static let importBatchSize = 100

    /// Imports a city CSV. The whole file is validated before anything is written; rows are then
    /// upserted in batches (idempotent: a re-import changes nothing). English names come from the
    /// built-in table; a code it does not know keeps an existing English name or uses the Chinese one.
    public static func importCities(csv text: String, interoperable: Bool, store: Store, actor: String, nowMs: Int64,
                                    progress: @Sendable (Int, Int) -> Void = { _, _ in }) async throws -> ImportSummary {
        let parsed = try CityCSV.parse(text)
        var summary = ImportSummary(skippedPlaceholders: parsed.skippedPlaceholders)
        var done = 0
        for start in stride(from: 0, to: parsed.rows.count, by: importBatchSize) {
            let batch = Array(parsed.rows[start..<min(start + importBatchSize, parsed.rows.count)])
            let outcomes = try await store.write { tx in
                var outcomes: [UpsertOutcome] = []
                for row in batch {
                    let existing = try await tx.city(code: row.code)
                    let english = ChineseCities.byCode[row.code]?.en ?? existing?.nameEn ?? row.nameZh
                    outcomes.append(try await tx.upsertCity(code: row.code, name: LocalizedName(en: english, zh: row.nameZh),
                                                            interoperable: existing?.isInteroperable ?? interoperable, atMs: nowMs))
                }
                let changed = outcomes.filter { $0 != .unchanged }.count
                if changed > 0 {
                    try await tx.appendAudit(actor: actor, action: "reference.import_cities", objectType: "cities",
                                             objectID: "\(batch[0].code)..\(batch[batch.count - 1].code)",
                                             detail: "\(changed) rows changed", atMs: nowMs)
                }
                return outcomes
            }
            for outcome in outcomes {
                switch outcome {
                case .inserted: summary.inserted += 1
                case .updated: summary.updated += 1
                case .unchanged: summary.unchanged += 1
                }
            }
            done += batch.count
            progress(done, parsed.rows.count)
        }
        return summary
    }
}
