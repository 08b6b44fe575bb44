import VetoCore

/// Request bodies both planes read as JSON.
enum RequestBody {
    /// A `{"token": …}` body needs one member; a few more are tolerated, thousands are refused
    /// before they cost anything (security finding 3).
    static let reader = JSONReader(maxDepth: 8, maxMembers: 64)
}
