import Synchronization

/// Caps the open client connections (`limits.max_connections`). A connection beyond the cap is
/// accepted and closed at once, so a flood of idle sockets cannot exhaust file descriptors or memory
/// and starve the gateways' connections (security finding 15).
package final class ConnectionLimit: Sendable {
    package let maximum: Int
    private let open = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)

    package init(maximum: Int) {
        self.maximum = maximum
    }

    /// Claims a slot; false when the cap is reached (nothing is claimed then).
    package func admit() -> Bool {
        let now = open.add(1, ordering: .relaxed).newValue
        guard now <= maximum else {
            open.subtract(1, ordering: .relaxed)
            refused.add(1, ordering: .relaxed)
            return false
        }
        return true
    }

    package func release() {
        open.subtract(1, ordering: .relaxed)
    }

    package var openConnections: Int { open.load(ordering: .relaxed) }
    package var refusedConnections: Int { refused.load(ordering: .relaxed) }
}
