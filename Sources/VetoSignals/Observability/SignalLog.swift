import Logging
import NIOCore
import Synchronization

/// One log line per signal (contract §5): source, event, outcome, code, and what was cut off. Never a
/// token or a SET; values go in metadata, which the service's log handlers escape.
///
/// Refusals come from anyone who can reach the endpoints, so at most `refusalsPerSecond` of them are
/// logged each second; the next line logged says how many were left out. Metrics count them all.
package final class SignalLog: Sendable {
    private let logger: Logger
    private let refusalsPerSecond: Int
    private let window = Mutex(Window())

    private struct Window {
        var second: Int64 = 0
        var logged = 0
        var suppressed = 0
    }

    package init(logger: Logger, refusalsPerSecond: Int = 20) {
        self.logger = logger
        self.refusalsPerSecond = refusalsPerSecond
    }

    /// - Parameters:
    ///   - fields: more metadata (`iss`, `jti`, `effects`, `state`); values as the sender sent them.
    package func record(
        _ source: SignalMetrics.Source, event: String, _ outcome: SignalMetrics.Outcome, code: String?, fields: [String: String] = [:]
    ) {
        var metadata: Logger.Metadata = [
            "veto.signal.source": .string(source.rawValue), "veto.signal.event": .string(event),
            "veto.signal.outcome": .string(outcome.rawValue)
        ]
        if let code { metadata["code"] = .string(code) }
        for (name, value) in fields { metadata["veto.signal.\(name)"] = .string(String(value.prefix(600))) }
        switch outcome {
        case .applied, .ignored:
            logger.info("signal \(outcome.rawValue)", metadata: metadata)
        case .failed:
            logger.error("signal not stored; the sender will retry", metadata: metadata)
        case .refused:
            guard let suppressed = admitRefusal() else { return }
            if suppressed > 0 { metadata["veto.signal.suppressed"] = .string(String(suppressed)) }
            logger.notice("signal refused", metadata: metadata)
        }
    }

    /// Nil when this second's budget is spent; else how many refusals went unlogged before this one.
    private func admitRefusal() -> Int? {
        let second = NIODeadline.now().uptimeNanoseconds / 1_000_000_000
        return window.withLock { (window) -> Int? in
            if Int64(second) != window.second {
                window.second = Int64(second)
                window.logged = 0
            }
            guard window.logged < refusalsPerSecond else {
                window.suppressed += 1
                return nil
            }
            window.logged += 1
            defer { window.suppressed = 0 }
            return window.suppressed
        }
    }
}
