/// An ISO 3166-1 alpha-3 country code (officially assigned codes only), e.g. `CHN`, `DEU`.
public struct CountryCode: Sendable, Hashable, Codable, CustomStringConvertible {
    public let alpha3: String

    /// Upper-cases ASCII letters (after trimming whitespace) and requires an officially assigned
    /// ISO 3166-1 alpha-3 code.
    public init(validating raw: String) throws {
        let code = uppercasedASCII(raw.trimmingWhitespace())
        guard CountryCode.all.contains(code) else {
            throw DomainError.malformed("nationality.invalid",
                                        "nationality must be an ISO 3166-1 alpha-3 code, got '\(raw.prefix(40))'")
        }
        self.alpha3 = code
    }

    /// Reads the 3-character nationality or issuing-state field of an ICAO 9303 MRZ: '<' fillers are
    /// removed and Germany's ICAO code `D` becomes `DEU`. ICAO-only codes (`D` aside) such as `GBD`,
    /// `UNO`, `XXA`, `XXX` or the specimen `UTO` are not ISO 3166-1 codes and give nil.
    public init?(mrz field: String) {
        let code = String(field.filter { $0 != "<" })
        let mapped = code == "D" ? "DEU" : code
        guard CountryCode.all.contains(mapped) else { return nil }
        self.alpha3 = mapped
    }

    public var description: String { alpha3 }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try CountryCode(validating: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "expected an ISO 3166-1 alpha-3 code, got '\(text.prefix(40))'"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(alpha3)
    }

    /// All 249 officially assigned ISO 3166-1 alpha-3 codes.
    public static let all: Set<String> = [
        "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM", "ASM", "ATA", "ATF", "ATG", "AUS", "AUT",
        "AZE", "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR", "BHR", "BHS", "BIH", "BLM", "BLR", "BLZ", "BMU", "BOL",
        "BRA", "BRB", "BRN", "BTN", "BVT", "BWA", "CAF", "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG",
        "COK", "COL", "COM", "CPV", "CRI", "CUB", "CUW", "CXR", "CYM", "CYP", "CZE", "DEU", "DJI", "DMA", "DNK", "DOM",
        "DZA", "ECU", "EGY", "ERI", "ESH", "ESP", "EST", "ETH", "FIN", "FJI", "FLK", "FRA", "FRO", "FSM", "GAB", "GBR",
        "GEO", "GGY", "GHA", "GIB", "GIN", "GLP", "GMB", "GNB", "GNQ", "GRC", "GRD", "GRL", "GTM", "GUF", "GUM", "GUY",
        "HKG", "HMD", "HND", "HRV", "HTI", "HUN", "IDN", "IMN", "IND", "IOT", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA",
        "JAM", "JEY", "JOR", "JPN", "KAZ", "KEN", "KGZ", "KHM", "KIR", "KNA", "KOR", "KWT", "LAO", "LBN", "LBR", "LBY",
        "LCA", "LIE", "LKA", "LSO", "LTU", "LUX", "LVA", "MAC", "MAF", "MAR", "MCO", "MDA", "MDG", "MDV", "MEX", "MHL",
        "MKD", "MLI", "MLT", "MMR", "MNE", "MNG", "MNP", "MOZ", "MRT", "MSR", "MTQ", "MUS", "MWI", "MYS", "MYT", "NAM",
        "NCL", "NER", "NFK", "NGA", "NIC", "NIU", "NLD", "NOR", "NPL", "NRU", "NZL", "OMN", "PAK", "PAN", "PCN", "PER",
        "PHL", "PLW", "PNG", "POL", "PRI", "PRK", "PRT", "PRY", "PSE", "PYF", "QAT", "REU", "ROU", "RUS", "RWA", "SAU",
        "SDN", "SEN", "SGP", "SGS", "SHN", "SJM", "SLB", "SLE", "SLV", "SMR", "SOM", "SPM", "SRB", "SSD", "STP", "SUR",
        "SVK", "SVN", "SWE", "SWZ", "SXM", "SYC", "SYR", "TCA", "TCD", "TGO", "THA", "TJK", "TKL", "TKM", "TLS", "TON",
        "TTO", "TUN", "TUR", "TUV", "TWN", "TZA", "UGA", "UKR", "UMI", "URY", "USA", "UZB", "VAT", "VCT", "VEN", "VGB",
        "VIR", "VNM", "VUT", "WLF", "WSM", "YEM", "ZAF", "ZMB", "ZWE",
    ]
}

private func uppercasedASCII(_ text: String) -> String {
    var scalars = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
        if (97...122).contains(scalar.value) {
            scalars.append(Unicode.Scalar(UInt8(scalar.value - 32)))
        } else {
            scalars.append(scalar)
        }
    }
    return String(scalars)
}
