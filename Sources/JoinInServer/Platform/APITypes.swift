import Foundation
import JoinInAPI
import JoinInCore

/// The request and response types generated from the OpenAPI spec (`JoinInAPI`). Handlers decode
/// requests into them and answer with them, so a schema and the code that speaks it cannot drift.
typealias Schemas = Components.Schemas

/// Conversions between the generated types and the domain's.
enum API {
    /// A value the spec's enum does not list: the code and the spec disagree. Answered 500 and
    /// logged; `APIEnumTests` checks every domain enum against the spec so it never ships.
    struct SpecMismatch: Error, CustomStringConvertible {
        let value: String
        let type: String
        var description: String { "'\(value)' is not a value of \(type) in the spec" }
    }

    /// A domain value as the spec's enum with the same raw value.
    static func value<Out: RawRepresentable<String>>(_ raw: String, as _: Out.Type = Out.self) throws -> Out {
        guard let value = Out(rawValue: raw) else { throw SpecMismatch(value: raw, type: String(describing: Out.self)) }
        return value
    }

    /// A request's enum value as the domain's (the spec and the domain list the same values).
    static func domain<Out: RawRepresentable<String>>(_ value: some RawRepresentable<String>, as _: Out.Type = Out.self) throws -> Out {
        guard let domain = Out(rawValue: value.rawValue) else { throw SpecMismatch(value: value.rawValue, type: String(describing: Out.self)) }
        return domain
    }

    /// A calendar date field (`format: date`, a string in the generated types), or 400 naming it.
    static func date(_ text: String, field: String) throws -> CivilDate {
        guard let date = CivilDate(text) else {
            throw DomainError.malformed("request.invalid_json", "\(field): expected a calendar date YYYY-MM-DD, got '\(text.prefix(40))'")
        }
        return date
    }

    static func instant(ms: Int64) -> Date {
        Date(timeIntervalSince1970: TimeInterval(ms) / 1000)
    }

    static func money(_ fen: Int64) -> Schemas.Money {
        Schemas.Money(amountFen: fen, currency: .cny)
    }

    static func name(_ name: LocalizedName) -> Schemas.LocalizedName {
        Schemas.LocalizedName(en: name.en, zh: name.zh)
    }
}
