/// A configuration that cannot start the service. `field` names where the problem is
/// (`issuers[0].keys[1]`, `--listen`), so the operator knows what to fix.
package struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    package let field: String
    package let problem: String

    package init(_ field: String, _ problem: String) {
        self.field = field
        self.problem = problem
    }

    package var description: String { "\(field): \(problem)" }
}
