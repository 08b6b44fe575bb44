import CoreMetrics
import NIOCore
import VetoCore
import VetoStore

/// Signal effects stored as cut-offs in the service's blocklist (`Blocklist.cutoff`, the one store write
/// every rule kind goes through, so the replica feed carries them too), acknowledged only once stored.
package struct BlocklistSignalEffects: SignalEffects {
    let blocklist: any Blocklist
    let metricsFactory: any MetricsFactory

    package init(blocklist: any Blocklist, metricsFactory: any MetricsFactory) {
        self.blocklist = blocklist
        self.metricsFactory = metricsFactory
    }

    package func apply(_ effect: SignalEffect) async throws(SignalEffectError) {
        let kind = Self.kind(effect.kind)
        let request = CutoffRequest(
            issuer: effect.tokenIssuer, kind: kind, value: effect.value, before: effect.at, reason: effect.createdBy,
            createdBy: effect.createdBy)
        do {
            _ = try await blocklist.cutoff(request, on: blocklist.eventLoopGroup.any()).get()
        } catch let error as StoreError where error.code == .invalidArgument {
            // The store cannot hold this value (too long, not a storable time): retrying cannot help.
            throw SignalEffectError.rejected(error.message)
        } catch {
            // Down, timed out, overloaded, not replicated, closed: the sender's retry may succeed.
            throw SignalEffectError.unavailable("\(error)")
        }
        // veto_cutoffs_written_total{kind, created_by}, as the admin API counts its cut-offs. created_by
        // comes from the configuration (`ssf:<transmitter>`), never from a token: the labels stay few.
        CoreMetrics.Counter(
            label: "veto_cutoffs_written_total", dimensions: [("kind", kind.rawValue), ("created_by", effect.createdBy)],
            factory: metricsFactory
        ).increment()
    }

    static func kind(_ kind: SignalEffect.Kind) -> CutoffKind {
        switch kind {
        case .subject: .subject
        case .session: .session
        case .email: .email
        }
    }
}
