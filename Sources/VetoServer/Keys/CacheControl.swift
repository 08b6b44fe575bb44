/// The part of `Cache-Control` (RFC 9111 §5.2.2) that decides when a JWKS is fetched again.
enum CacheControl {
    /// The freshness lifetime the response allows: `max-age`, or zero for `no-cache` and
    /// `no-store`; nil when the header says nothing about it or cannot be read.
    static func maxAge(_ headerValues: [String]) -> Duration? {
        var maxAge: Duration?
        for value in headerValues {
            for directive in value.split(separator: ",") {
                let parts = directive.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let first = parts.first else { continue }
                let name = first.trimmingASCIIWhitespace().lowercased()
                switch name {
                case "no-cache", "no-store":
                    return .zero
                case "max-age" where parts.count == 2 && maxAge == nil:
                    var argument = parts[1].trimmingASCIIWhitespace()
                    // RFC 9111 §5.2: senders must use the token form, but recipients should accept a quoted string.
                    if argument.count >= 2, argument.hasPrefix("\""), argument.hasSuffix("\"") {
                        argument = argument.dropFirst().dropLast()
                    }
                    guard !argument.isEmpty, argument.allSatisfy({ $0.isASCII && $0.isNumber }) else { continue }
                    // §1.2.2: a delta-seconds too large to hold is "infinity"; 2^31 stands for it.
                    maxAge = .seconds(Int64(argument).map { min($0, 1 << 31) } ?? (1 << 31))
                default:
                    continue
                }
            }
        }
        return maxAge
    }
}

extension Substring {
    fileprivate func trimmingASCIIWhitespace() -> Substring {
        var trimmed = self
        while let first = trimmed.first, first == " " || first == "\t" { trimmed = trimmed.dropFirst() }
        while let last = trimmed.last, last == " " || last == "\t" { trimmed = trimmed.dropLast() }
        return trimmed
    }
}
