import NIOCore

/// Promises waiting for a topology, failed at their deadline if it does not come.
struct TopologyWaiters {
    private var waiting: [(promise: EventLoopPromise<Void>, timeout: Scheduled<Void>)] = []

    mutating func add(on eventLoop: any EventLoop, deadline: NIODeadline, what: String) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        let timeout = eventLoop.scheduleTask(deadline: deadline) {
            promise.fail(RedisError(.unavailable, "no \(what) known yet"))
        }
        waiting.append((promise, timeout))
        return promise.futureResult
    }

    /// Takes every waiter out; complete them outside the lock.
    mutating func drain() -> [(promise: EventLoopPromise<Void>, timeout: Scheduled<Void>)] {
        defer { waiting.removeAll() }
        return waiting
    }

    static func succeed(_ drained: [(promise: EventLoopPromise<Void>, timeout: Scheduled<Void>)]) {
        for (promise, timeout) in drained {
            timeout.cancel()
            promise.succeed()
        }
    }
}
