/// Whether a name as written can appear as a given MRZ name (A-Z, single spaces), following
/// ICAO 9303 Part 3 transliteration: Ü may be printed UE or U, ß as SS, apostrophes dropped,
/// hyphens and spaces as fillers. Letters outside the table match any one MRZ letter rather than
/// refusing a real person whose name the table does not know.
enum MRZNames {
    static let transliterations: [Character: [String]] = {
        var table: [Character: [String]] = [:]
        func add(_ letters: String, _ options: [String]) { for letter in letters { table[letter] = options } }
        add("ÀÁÂÃĀĂĄ", ["A"]); add("Ä", ["AE", "A"]); add("Å", ["AA", "A"]); add("Æ", ["AE"])
        add("ÇĆĈĊČ", ["C"]); add("ĎĐ", ["D"]); add("Ð", ["D"]); add("ÈÉÊËĒĔĖĘĚ", ["E"])
        add("ĜĞĠĢ", ["G"]); add("ĤĦ", ["H"]); add("ÌÍÎÏĨĪĬĮİ", ["I"]); add("Ĳ", ["IJ"]); add("Ĵ", ["J"]); add("Ķ", ["K"])
        add("ĹĻĽĿŁ", ["L"]); add("ÑŃŅŇ", ["N"]); add("ÒÓÔÕŌŎ", ["O"]); add("Ö", ["OE", "O"]); add("ØŒ", ["OE"]); add("Ő", ["O", "OE"])
        add("ŔŖŘ", ["R"]); add("ŚŜŞŠȘ", ["S"]); add("ß", ["SS"]); add("ŢŤŦȚ", ["T"]); add("Þ", ["TH"])
        add("ÙÚÛŨŪŬŮŲ", ["U"]); add("Ü", ["UE", "U"]); add("Ű", ["U", "UE"]); add("Ŵ", ["W"]); add("ÝŸŶ", ["Y"]); add("ŹŻŽ", ["Z"])
        return table
    }()

    enum Unit: Equatable {
        case options([String])
        case separator
        case anyLetter
    }

    static func units(of name: String) -> [Unit] {
        var units: [Unit] = []
        for character in name.uppercased() {
            if character.isASCIIUppercaseLetter {
                units.append(.options([String(character)]))
            } else if character == "'" || character == "’" {
                units.append(.options(["", " "]))
            } else if let options = transliterations[character] {
                units.append(.options(options))
            } else if character.isLetter {
                units.append(.anyLetter)
            } else if units.last != .separator {
                units.append(.separator)
            }
        }
        while units.first == .separator { units.removeFirst() }
        while units.last == .separator { units.removeLast() }
        return units
    }

    /// `mrz` is the MRZ form (A-Z and single spaces). With `allowTruncation`, the MRZ may stop
    /// part-way through the written name (a full name field cuts long names short).
    static func matches(declared: String, mrz: String, allowTruncation: Bool) -> Bool {
        let units = units(of: declared)
        let target = Array(mrz)
        var memo: [Int: Bool] = [:]
        func match(_ u: Int, _ j: Int) -> Bool {
            if j == target.count && (u == units.count || allowTruncation) { return true }
            if u == units.count { return false }
            let key = u * (target.count + 1) + j
            if let known = memo[key] { return known }
            var result = false
            switch units[u] {
            case .separator:
                result = j < target.count && target[j] == " " && match(u + 1, j + 1)
            case .anyLetter:
                result = j < target.count && target[j] != " " && match(u + 1, j + 1)
            case .options(let options):
                for option in options where !result {
                    let piece = Array(option)
                    if j + piece.count <= target.count && Array(target[j..<(j + piece.count)]) == piece {
                        result = match(u + 1, j + piece.count)
                    } else if allowTruncation && j + piece.count > target.count && target.count > j
                                && Array(target[j...]) == Array(piece.prefix(target.count - j)) {
                        result = true
                    }
                }
            }
            memo[key] = result
            return result
        }
        return match(0, 0)
    }
}
