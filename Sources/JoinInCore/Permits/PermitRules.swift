/// Work-permit categories: A high-end talent, B professionals, C others (temporary, seasonal).
public enum PermitCategory: String, Sendable, Codable, CaseIterable {
    case A, B, C

    /// Longest validity of one permit: five years for A and B, one year for C.
    public var validityYearsMax: Int {
        switch self {
        case .A, .B: return 5
        case .C: return 1
        }
    }
}

/// Documents an employer lists on an application; the officer checks the originals on arrival.
public enum DocumentKind: String, Sendable, Codable, CaseIterable {
    case passport, photo
    case highestDegree = "highest_degree"
    case workExperienceProof = "work_experience_proof"
    case criminalRecordCertificate = "criminal_record_certificate"
    case medicalCertificate = "medical_certificate"
    case employmentContract = "employment_contract"

    /// Every application must list these.
    public static let required: Set<DocumentKind> = [.passport, .photo, .employmentContract]
}

public enum ApplicationStatus: String, Sendable, Codable, CaseIterable {
    case submitted, originalsVerified, issued, rejected
}

public enum PermitStatus: String, Sendable, Codable, CaseIterable {
    /// `pending`: issued, but its validity starts later (the contract starts in the future).
    case pending, valid, expired, cancelled
}

/// The foreign national as the employer declares them.
public struct ApplicantDeclaration: Sendable, Equatable {
    public var passportNumber: PassportNumber
    public var nationality: CountryCode
    public var surname: String
    public var givenNames: String
    public var chineseName: String?
    public var dateOfBirth: CivilDate
    public var sex: Sex

    public init(passportNumber: PassportNumber, nationality: CountryCode, surname: String, givenNames: String,
                chineseName: String?, dateOfBirth: CivilDate, sex: Sex) {
        self.passportNumber = passportNumber
        self.nationality = nationality
        self.surname = surname
        self.givenNames = givenNames
        self.chineseName = chineseName
        self.dateOfBirth = dateOfBirth
        self.sex = sex
    }

    /// "SURNAME Given Names" as printed on letters.
    public var fullName: String { givenNames.isEmpty ? surname : "\(surname) \(givenNames)" }
}

public struct ApplicationTerms: Sendable, Equatable {
    public var position: String
    public var category: PermitCategory
    public var contractStart: CivilDate
    public var contractEnd: CivilDate
    public var documents: [DocumentKind]

    public init(position: String, category: PermitCategory, contractStart: CivilDate, contractEnd: CivilDate, documents: [DocumentKind]) {
        self.position = position
        self.category = category
        self.contractStart = contractStart
        self.contractEnd = contractEnd
        self.documents = documents
    }
}

public struct PermitValidity: Sendable, Equatable {
    public let validFrom: CivilDate
    public let validUntil: CivilDate
}

public enum PermitRules {
    public static let nameLengthMax = 64
    public static let positionLengthMax = 100
    public static let ageRange = 18...100
    public static let contractYearsMax = 10

    /// Normalises and checks a person's names: Latin letters, spaces, hyphens, apostrophes.
    public static func validatedName(_ raw: String, field: String, allowEmpty: Bool) throws -> String {
        let collapsed = raw.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        if collapsed.isEmpty {
            guard allowEmpty else { throw DomainError.malformed("person.name_empty", "\(field) must not be empty") }
            return ""
        }
        guard collapsed.scalarCount <= nameLengthMax else {
            throw DomainError.malformed("person.name_too_long", "\(field) must be at most \(nameLengthMax) characters")
        }
        let allowed: (Character) -> Bool = { $0.isLetter || $0 == " " || $0 == "-" || $0 == "'" || $0 == "." }
        guard collapsed.allSatisfy(allowed) else {
            throw DomainError.malformed("person.name_invalid", "\(field) may contain only letters, spaces, '-', '.' and apostrophes")
        }
        return collapsed
    }

    public static func validatedChineseName(_ raw: String?) throws -> String? {
        guard let raw else { return nil }
        let name = raw.trimmingWhitespace()
        guard !name.isEmpty else { return nil }
        guard name.scalarCount <= 32, !name.contains(where: { $0.isNewline }) else {
            throw DomainError.malformed("person.chinese_name_invalid", "chinese_name must be at most 32 characters on one line")
        }
        return name
    }

    /// Checks an application as filed: person plausibility, contract dates, documents listed.
    public static func validate(person: ApplicantDeclaration, terms: ApplicationTerms, today: CivilDate) throws {
        guard person.dateOfBirth <= today else {
            throw DomainError.rule("person.date_of_birth_in_future", "date_of_birth \(person.dateOfBirth) is after today \(today)")
        }
        let age = person.dateOfBirth.wholeYears(until: today)
        guard ageRange.contains(age) else {
            throw DomainError.rule("person.age_out_of_range", "applicant must be 18-100 years old; date_of_birth \(person.dateOfBirth) gives \(age)")
        }
        let position = terms.position.trimmingWhitespace()
        guard !position.isEmpty, position.scalarCount <= positionLengthMax else {
            throw DomainError.malformed("application.position_invalid", "position must be 1-\(positionLengthMax) characters")
        }
        guard terms.contractStart < terms.contractEnd else {
            throw DomainError.rule("application.contract_dates_out_of_order",
                                   "contract_end \(terms.contractEnd) must be after contract_start \(terms.contractStart)")
        }
        guard terms.contractEnd >= today else {
            throw DomainError.rule("application.contract_ended", "contract_end \(terms.contractEnd) is before today \(today)")
        }
        guard terms.contractEnd <= terms.contractStart.adding(years: contractYearsMax) else {
            throw DomainError.rule("application.contract_too_long", "contract may run at most \(contractYearsMax) years")
        }
        try validateDocuments(terms.documents)
    }

    public static func validateDocuments(_ documents: [DocumentKind]) throws {
        let listed = Set(documents)
        guard listed.count == documents.count else {
            throw DomainError.malformed("application.documents_duplicate", "documents lists a kind more than once")
        }
        let missing = DocumentKind.required.subtracting(listed).map(\.rawValue).sorted()
        guard missing.isEmpty else {
            throw DomainError.rule("application.documents_missing", "documents must include \(missing.joined(separator: ", "))")
        }
    }

    /// When an MRZ is given it must agree with the declared fields and the passport must not be expired.
    public static func checkAgreement(person: ApplicantDeclaration, mrz: MachineReadableZone, today: CivilDate) throws {
        func mismatch(_ field: String) -> DomainError {
            DomainError.rule("mrz.mismatch", "mrz does not agree with \(field)")
        }
        guard mrz.passportNumber == person.passportNumber.value else { throw mismatch("passport_number") }
        guard mrz.nationality == person.nationality else { throw mismatch("nationality") }
        guard mrz.dateOfBirth == person.dateOfBirth else { throw mismatch("date_of_birth") }
        guard mrz.sex == .unspecified || mrz.sex == person.sex else { throw mismatch("sex") }
        // The MRZ may truncate long names, so a declared name need only start like it, but only when
        // the MRZ name field is full: a shorter field holds every name and must match exactly.
        let nameFieldUsed = mrz.surname.count + (mrz.givenNames.isEmpty ? 0 : 2 + mrz.givenNames.count)
        let mayBeTruncated = nameFieldUsed >= mrzNameFieldLength
        guard MRZNames.matches(declared: person.surname, mrz: mrzForm(mrz.surname), allowTruncation: mayBeTruncated) else {
            throw mismatch("surname")
        }
        guard MRZNames.matches(declared: person.givenNames, mrz: mrzForm(mrz.givenNames), allowTruncation: mayBeTruncated) else {
            throw mismatch("given_names")
        }
        guard mrz.expiryDate >= today else {
            throw DomainError.rule("passport.expired", "passport expired on \(mrz.expiryDate)")
        }
    }

    /// Characters of the TD3 name field (line 1, positions 6-44): surname, "<<", given names.
    static let mrzNameFieldLength = 39

    /// Upper-case A-Z with single spaces: how a name appears in an MRZ.
    public static func mrzForm(_ name: String) -> String {
        let mapped = name.uppercased().map { $0.isASCIIUppercaseLetter ? $0 : " " }
        return String(mapped).split(separator: " ").joined(separator: " ")
    }

    /// The originals officer must have seen every listed document to issue; extra ones are an error.
    public static func checkOriginals(listed: [DocumentKind], checked: [DocumentKind]) throws {
        let unknown = Set(checked).subtracting(listed).map(\.rawValue).sorted()
        guard unknown.isEmpty else {
            throw DomainError.malformed("verification.document_not_listed",
                                        "checked_documents names documents the application did not list: \(unknown.joined(separator: ", "))")
        }
        let unchecked = Set(listed).subtracting(checked).map(\.rawValue).sorted()
        guard unchecked.isEmpty else {
            throw DomainError.rule("verification.originals_unchecked",
                                   "every listed original must be checked before issuing; unchecked: \(unchecked.joined(separator: ", "))")
        }
    }

    /// Validity of a permit issued on `issueDate`: from the later of issue and contract start, to the
    /// earliest of contract end and the category's maximum length.
    public static func validity(category: PermitCategory, contractStart: CivilDate, contractEnd: CivilDate,
                                issueDate: CivilDate) throws -> PermitValidity {
        let validFrom = max(issueDate, contractStart)
        let categoryEnd = validFrom.adding(years: category.validityYearsMax).adding(days: -1)
        let validUntil = min(contractEnd, categoryEnd)
        guard validFrom <= validUntil else {
            throw DomainError.rule("application.contract_ended", "contract_end \(contractEnd) is before the issue date \(issueDate)")
        }
        return PermitValidity(validFrom: validFrom, validUntil: validUntil)
    }

    /// Status is computed from the date, so an expired permit needs no batch job to turn expired.
    public static func status(validFrom: CivilDate, validUntil: CivilDate, cancelled: Bool, today: CivilDate) -> PermitStatus {
        if cancelled { return .cancelled }
        if today < validFrom { return .pending }
        return today > validUntil ? .expired : .valid
    }

    /// Reasons are free text for people; bound them.
    public static func validatedReason(_ raw: String?, field: String = "reason", required: Bool) throws -> String? {
        let reason = raw?.trimmingWhitespace() ?? ""
        if reason.isEmpty {
            guard !required else { throw DomainError.malformed("reason.required", "\(field) is required") }
            return nil
        }
        guard reason.scalarCount <= 500 else { throw DomainError.malformed("reason.too_long", "\(field) must be at most 500 characters") }
        return reason
    }
}
