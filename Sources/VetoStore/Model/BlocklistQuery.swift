/// A page request for ``Blocklist/list(_:on:)``: token entries matching every filter that is set.
public struct BlocklistQuery: Sendable, Equatable {
    public var issuer: String?
    public var subject: String?
    public var reason: String?
    /// From a previous page's ``BlocklistPage/nextCursor``; `nil` for the first page.
    public var cursor: String?
    public var limit: Int

    public init(issuer: String? = nil, subject: String? = nil, reason: String? = nil, cursor: String? = nil, limit: Int = 100) {
        self.issuer = issuer
        self.subject = subject
        self.reason = reason
        self.cursor = cursor
        self.limit = limit
    }
}

/// One page of token entries.
public struct BlocklistPage: Sendable, Equatable {
    public var entries: [RevocationEntry]
    /// Pass it back for the next page; `nil` when the listing is complete.
    public var nextCursor: String?

    public init(entries: [RevocationEntry], nextCursor: String?) {
        self.entries = entries
        self.nextCursor = nextCursor
    }
}

/// How many live entries a store holds.
public struct BlocklistCount: Sendable, Equatable {
    public var tokens: Int
    public var subjects: Int

    public init(tokens: Int, subjects: Int) {
        self.tokens = tokens
        self.subjects = subjects
    }
}
