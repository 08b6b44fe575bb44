import VetoCore

/// A page request for ``Blocklist/list(_:on:)``: token entries matching every filter that is set.
package struct BlocklistQuery: Sendable, Equatable {
    package var issuer: String?
    package var subject: String?
    package var reason: String?
    /// From a previous page's ``BlocklistPage/nextCursor``; `nil` for the first page.
    package var cursor: String?
    package var limit: Int

    package init(issuer: String? = nil, subject: String? = nil, reason: String? = nil, cursor: String? = nil, limit: Int = 100) {
        self.issuer = issuer
        self.subject = subject
        self.reason = reason
        self.cursor = cursor
        self.limit = limit
    }
}

/// One page of token entries.
package struct BlocklistPage: Sendable, Equatable {
    package var entries: [RevocationEntry]
    /// Pass it back for the next page; `nil` when the listing is complete.
    package var nextCursor: String?

    package init(entries: [RevocationEntry], nextCursor: String?) {
        self.entries = entries
        self.nextCursor = nextCursor
    }
}

/// How many live entries a store holds.
package struct BlocklistCount: Sendable, Equatable {
    package var tokens: Int
    /// Live cut-offs by kind; kinds without any are absent.
    package var cutoffs: [CutoffKind: Int]

    package init(tokens: Int, cutoffs: [CutoffKind: Int]) {
        self.tokens = tokens
        self.cutoffs = cutoffs.filter { $0.value > 0 }
    }

    package init(tokens: Int, subjects: Int) {
        self.init(tokens: tokens, cutoffs: [.subject: subjects])
    }

    /// Subject cut-offs.
    package var subjects: Int { cutoffs[.subject] ?? 0 }

    /// Cut-offs of every kind.
    package var allCutoffs: Int { cutoffs.values.reduce(0, +) }

    package mutating func add(_ kind: CutoffKind) {
        cutoffs[kind, default: 0] += 1
    }
}
