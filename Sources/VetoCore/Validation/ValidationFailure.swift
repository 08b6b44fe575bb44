/// One reason a token was refused: a stable code, the checklist line, a sentence that
/// names the actual and expected values, and a hint on how to fix it.
///
/// `message` is what anyone may read: it names the token's own values and the value the failed
/// check expected, and goes into HTTP answers. `detail` describes the configuration (every
/// configured issuer, every known kid, key files): only the terminal shows it (`veto verify`),
/// never an HTTP answer (security finding 9).
package struct ValidationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    package let code: ReasonCode
    package let check: ValidationCheck
    package let message: String
    package let hint: String?
    package let detail: String?

    package init(_ code: ReasonCode, _ check: ValidationCheck, _ message: String, hint: String? = nil, detail: String? = nil) {
        self.code = code
        self.check = check
        self.message = message
        self.hint = hint
        self.detail = detail
    }

    /// The message with the configuration detail, for the operator's terminal.
    package var fullMessage: String { detail.map { "\(message) \($0)" } ?? message }

    package var description: String { "\(code.rawValue): \(message)" }
}
