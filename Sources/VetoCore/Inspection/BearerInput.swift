/// Pulls a token out of what people paste: surrounding whitespace, `Bearer `, or a whole
/// `Authorization: Bearer …` header line.
package enum BearerInput {
    package static func token(from input: String) -> String {
        var text = Substring(input.trimmingWhitespace())
        if text.lowercased().hasPrefix("authorization:") {
            text = text.dropFirst("authorization:".count).drop { $0.isWhitespace }
        }
        if text.lowercased().hasPrefix("bearer") {
            let rest = text.dropFirst("bearer".count)
            if rest.first?.isWhitespace == true { text = rest.drop { $0.isWhitespace } }
        }
        return String(text).trimmingWhitespace()
    }
}
