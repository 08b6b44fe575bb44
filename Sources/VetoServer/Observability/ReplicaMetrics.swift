import CoreMetrics
import Metrics
import VetoStore

extension ServiceMetrics {
    /// The replica's metrics (bounded consistency):
    /// - `veto_replica_staleness_seconds`: seconds since the replica last proved itself current;
    /// - `veto_replica_entries`: token entries and cut-offs it holds;
    /// - `veto_replica_resyncs_total{reason}`: full loads (`start`, `reconnect`, `trimmed`, `regressed`, `topology`);
    /// - `veto_replica_propagation_seconds`: from a feed entry's time (Redis's clock) to its application;
    /// - `veto_replica_answers_total{source}`: checks answered from memory (`replica`) or by Redis (`redis`).
    func replicaObserver() -> ReplicaObserver {
        let staleness = Gauge(label: "veto_replica_staleness_seconds", dimensions: [], factory: factory)
        let entries = Gauge(label: "veto_replica_entries", dimensions: [], factory: factory)
        var resyncs: [String: CoreMetrics.Counter] = [:]
        for reason in ["start", "reconnect", "trimmed", "regressed", "topology"] {
            resyncs[reason] = CoreMetrics.Counter(label: "veto_replica_resyncs_total", dimensions: [("reason", reason)], factory: factory)
        }
        let propagation = Metrics.Timer(label: "veto_replica_propagation_seconds", dimensions: [], factory: factory)
        let fromReplica = CoreMetrics.Counter(label: "veto_replica_answers_total", dimensions: [("source", "replica")], factory: factory)
        let fromRedis = CoreMetrics.Counter(label: "veto_replica_answers_total", dimensions: [("source", "redis")], factory: factory)
        var observer = ReplicaObserver()
        observer.resynced = { [resyncs] reason in resyncs[reason]?.increment() }
        observer.applied = { seconds in propagation.recordNanoseconds(Int64(min(seconds, 3600) * 1e9)) }
        observer.cycled = { snapshot in
            staleness.record(snapshot.staleness.isFinite ? snapshot.staleness : -1)
            entries.record(snapshot.entries)
        }
        observer.answered = { fromMemory in (fromMemory ? fromReplica : fromRedis).increment() }
        return observer
    }
}
