import Foundation
import JoinInCore
import JoinInStore

/// Small pieces every domain's controller uses.

/// A fresh object id: a time-ordered UUID (v7, lower case), so new rows append to their key index.
/// The time is the machine's, not the injected clock's: an id's order is a storage matter, not a
/// business time (those are stored in their own columns).
func newID() -> String { TimeOrderedID.make(unixMs: Int64(Date().timeIntervalSince1970 * 1000)) }

enum Timestamps {
    static func rfc3339(ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(ms) / 1000))
    }
}

extension PageCursor {
    /// A list cursor from a client: one this server issued, or 400.
    static func parse(_ text: String) throws -> PageCursor {
        guard let cursor = PageCursor(encoded: text) else {
            throw DomainError.malformed("list.cursor_invalid", "cursor is not one this server issued")
        }
        return cursor
    }
}

extension StoreTx {
    /// A known city by its 6-digit GB/T 2260 code, or the error that names what is wrong.
    func requireCity(_ code: String) async throws {
        guard code.count == 6, code.allSatisfy(\.isASCIIDigit) else {
            throw DomainError.malformed("city.code_invalid", "city_code must be a 6-digit GB/T 2260 code")
        }
        guard try await city(code: code) != nil else {
            throw DomainError.rule("city.not_found", "city_code \(code) is not a known city; import it first")
        }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
