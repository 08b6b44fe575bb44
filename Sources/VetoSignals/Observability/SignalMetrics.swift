import CoreMetrics
import Metrics

/// `veto_signal_events_total{source, event, outcome}`, every series created once at start-up (as
/// VetoServer's `ServiceMetrics` does), so a signal only increments. `event` is one of the known short
/// names, `unknown` or `none`: never a value the sender chose.
package final class SignalMetrics: Sendable {
    package enum Source: String, Sendable, CaseIterable {
        case backchannelLogout = "backchannel_logout"
        case ssf
    }

    package enum Outcome: String, Sendable, CaseIterable {
        /// The effects are stored.
        case applied
        /// Valid, with nothing to store (verification, token-claims-change, an unknown event).
        case ignored
        /// Invalid: 400, 401, 413, 415, or a poll `setErrs` entry.
        case refused
        /// Valid, but the store failed (503, or not acknowledged on poll).
        case failed
    }

    private let counters: [String: CoreMetrics.Counter]

    package init(factory: any MetricsFactory) {
        var counters: [String: CoreMetrics.Counter] = [:]
        for source in Source.allCases {
            for event in SignalEvent.labels {
                for outcome in Outcome.allCases {
                    counters[Self.key(source, event, outcome)] = CoreMetrics.Counter(
                        label: "veto_signal_events_total",
                        dimensions: [("source", source.rawValue), ("event", event), ("outcome", outcome.rawValue)], factory: factory)
                }
            }
        }
        self.counters = counters
    }

    package func count(_ source: Source, event: String, _ outcome: Outcome) {
        counters[Self.key(source, event, outcome)]?.increment()
    }

    private static func key(_ source: Source, _ event: String, _ outcome: Outcome) -> String {
        "\(source.rawValue)/\(event)/\(outcome.rawValue)"
    }
}
