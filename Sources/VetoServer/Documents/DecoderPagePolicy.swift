import Foundation
import VetoCrypto

/// The decoder page's Content-Security-Policy: nothing may be loaded or sent (no fetch/XHR/WebSocket,
/// no forms, no frames, no base-URI tricks); only the page's own inline script and style run, each
/// pinned by the SHA-256 of its text (CSP3 hash sources), so a pasted token cannot leave the browser
/// even if the page had a bug.
enum DecoderPagePolicy {
    static func contentSecurityPolicy(html: String) -> String {
        [
            "default-src 'none'",
            "script-src \(hashSources(of: "script", in: html))",
            "style-src \(hashSources(of: "style", in: html))",
            "img-src data:",
            "connect-src 'none'",
            "form-action 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'"
        ].joined(separator: "; ")
    }

    /// `'sha256-…'` for every inline `<tag>` element, or `'none'` when the page has none.
    static func hashSources(of tag: String, in html: String) -> String {
        let sources = inlineContents(of: tag, in: html).map { "'sha256-\(Data(Digest.sha256($0.utf8)).base64EncodedString())'" }
        return sources.isEmpty ? "'none'" : sources.joined(separator: " ")
    }

    /// The text between `<tag …>` and the next `</tag>`, for each such element (the tag name as
    /// the page spells it, in lower case).
    static func inlineContents(of tag: String, in html: String) -> [Substring] {
        var contents: [Substring] = []
        var rest = html[...]
        while let open = rest.firstRange(of: "<\(tag)") {
            rest = rest[open.upperBound...]
            // `<scripts>` or `<style-x>` is another element, not this one.
            guard let next = rest.first, next == ">" || next.isWhitespace, let end = rest.firstIndex(of: ">") else { continue }
            rest = rest[rest.index(after: end)...]
            guard let close = rest.firstRange(of: "</\(tag)>") else { break }
            contents.append(rest[..<close.lowerBound])
            rest = rest[close.upperBound...]
        }
        return contents
    }
}
