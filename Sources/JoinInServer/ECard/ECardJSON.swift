import Foundation

// The e-card home and its parts write their own JSON (`JSONWritable`): it is the most frequent
// authenticated read, and `Codable` was a tenth of its CPU (docs/performance.md). Keys in
// ascending order, as `JSON.encoder` sorts them; debug builds compare every response with
// `JSONEncoder`'s.

extension Schemas.ECardMe: JSONWritable {
    func write(to json: inout JSONWriter) throws {
        try json.object { json in
            json.field("benefits", benefits)
            try json.field("card", card)
            try json.field("permit", permit)
            try json.field("person", person)
        }
    }
}

extension Schemas.ECardCard: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("financial_functions", financialFunctions)
            json.field("masked_number", maskedNumber)
            json.field("status", status)
        }
    }
}

extension Schemas.Permit: JSONWritable {
    func write(to json: inout JSONWriter) throws {
        try json.object { json in
            json.field("cancel_reason", cancelReason)
            try json.field("cancelled_at", cancelledAt)
            json.field("category", category)
            json.field("decision_letter_number", decisionLetterNumber)
            try json.field("employer", employer)
            try json.field("holder", holder)
            try json.field("issued_at", issuedAt)
            json.field("number", number)
            json.field("position", position)
            json.field("status", status)
            json.field("valid_from", validFrom)
            json.field("valid_until", validUntil)
        }
    }
}

extension Schemas.EmployerRef: JSONWritable {
    func write(to json: inout JSONWriter) throws {
        try json.object { json in
            json.field("id", id)
            try json.field("name", name)
        }
    }
}

extension Schemas.LocalizedName: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("en", en)
            json.field("zh", zh)
        }
    }
}

extension Schemas.Holder: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("chinese_name", chineseName)
            json.field("date_of_birth", dateOfBirth)
            json.field("given_names", givenNames)
            json.field("nationality", nationality)
            json.field("sex", sex)
            json.field("surname", surname)
        }
    }
}
