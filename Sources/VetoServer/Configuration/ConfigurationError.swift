/// A configuration that cannot start the service. `field` names where the problem is
/// (`issuers[0].keys[1]`, `--listen`), so the operator knows what to fix.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let field: String
    public let problem: String

    public init(_ field: String, _ problem: String) {
        self.field = field
        self.problem = problem
    }

    public var description: String { "\(field): \(problem)" }
}
