public import JoinInCore
public import JoinInStore

/// Importing a library's holdings (`joinin import library-items`): validated whole, idempotent
/// (a second run of the same file changes nothing), audited.
public enum LibraryImport {
    public static func importItems(store: Store, libraryID: String, bytes: [UInt8], file: String, actor: String,
                                   nowMs: Int64) async throws -> (added: Int, updated: Int) {
        let items = try LibraryItemsCSV.parse(bytes, file: file)
        return try await store.write { tx in
            guard let library = try await tx.library(id: libraryID) else {
                throw DomainError.notFound("library.not_found", "no library \(libraryID.prefix(64))")
            }
            // A barcode names one item in the city: another library's item may not be taken over.
            let existing = try await tx.libraryItems(cityCode: library.cityCode, barcodes: Set(items.map(\.barcode)))
            for item in items {
                if let other = existing[item.barcode], other.libraryId != library.id {
                    throw DomainError.rule("library.barcode_taken",
                                           "\(file) line \(item.line), field barcode: \(item.barcode) is an item of another library of city \(library.cityCode)")
                }
            }
            let (added, updated) = try await tx.upsertLibraryItems(libraryID: library.id, cityCode: library.cityCode, items: items, atMs: nowMs)
            try await tx.appendAudit(actor: actor, action: "library.items_import", objectType: "library", objectID: library.id,
                                     detail: "added=\(added) updated=\(updated)", atMs: nowMs)
            return (added, updated)
        }
    }
}
