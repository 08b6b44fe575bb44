/// Spots claims that look like secrets or personal data. A JWT payload is readable by anyone
/// who holds the token, so these do not belong in it.
enum SensitiveClaims {
    /// Name fragments, compared case-insensitively with `_`/`-` removed.
    static let secretNames = [
        "password", "passwd", "pwd", "secret", "privatekey", "apikey", "accesskey", "clientsecret", "creditcard", "cardnumber", "ccnumber", "cvv",
        "cvc", "pin"
    ]
    static let personalNames = ["ssn", "socialsecurity", "passport", "taxid", "dateofbirth", "birthdate", "dob", "iban", "nationalid"]

    static func warnings(in claims: JSONObject) -> [TokenInspection.Warning] {
        var warnings: [TokenInspection.Warning] = []
        visit(.object(claims), path: "") { path, name, value in
            let key = name.lowercased().filter { $0 != "_" && $0 != "-" }
            if secretNames.contains(where: { key == $0 || (key.count > 4 && $0.count > 3 && key.contains($0)) }) {
                warnings.append(.init(code: "secret_claim", message: "Claim \"\(path)\" looks like a secret: anyone holding the token can read it."))
            } else if personalNames.contains(where: { key == $0 || (key.count > 4 && $0.count > 3 && key.contains($0)) }) {
                warnings.append(
                    .init(code: "personal_data_claim", message: "Claim \"\(path)\" looks like personal data: anyone holding the token can read it."))
            } else if let string = value.stringValue, looksLikeCardNumber(string) {
                warnings.append(.init(code: "card_number_claim", message: "Claim \"\(path)\" holds what looks like a payment card number."))
            }
        }
        return warnings
    }

    static func visit(_ value: JSONValue, path: String, _ body: (String, String, JSONValue) -> Void) {
        guard case let .object(object) = value else { return }
        for member in object.members {
            let memberPath = path.isEmpty ? member.name : "\(path).\(member.name)"
            body(memberPath, member.name, member.value)
            visit(member.value, path: memberPath, body)
        }
    }

    /// 13–19 digits (spaces or dashes allowed) passing the Luhn check.
    static func looksLikeCardNumber(_ text: String) -> Bool {
        var digits: [Int] = []
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                digits.append(digit)
            } else if character == " " || character == "-" {
                continue
            } else {
                return false
            }
        }
        guard (13...19).contains(digits.count) else { return false }
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() {
            if offset % 2 == 1 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return sum % 10 == 0
    }
}
