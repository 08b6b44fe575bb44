import NIOCore
import VetoStore

/// Signal effects stored in the service's blocklist, acknowledged only once the store has them.
package struct BlocklistSignalEffects: SignalEffects {
    let blocklist: any Blocklist

    package init(blocklist: any Blocklist) {
        self.blocklist = blocklist
    }

    package func apply(_ effect: SignalEffect) async throws(SignalEffectError) {
        do {
            switch effect.kind {
            case .subject:
                _ = try await blocklist.revokeSubject(
                    SubjectRevocationRequest(
                        issuer: effect.tokenIssuer, subject: effect.value, cutoff: effect.at, reason: effect.createdBy, actor: effect.createdBy),
                    on: blocklist.eventLoopGroup.any()
                ).get()
            case .session, .email:
                throw SignalEffectError.unavailable("this store has no \(effect.kind.rawValue) cut-offs yet")
            }
        } catch let error as SignalEffectError {
            throw error
        } catch let error as StoreError where error.code == .invalidArgument {
            throw SignalEffectError.rejected(error.message)
        } catch {
            // Down, timed out, overloaded, not replicated: the sender's retry may succeed.
            throw SignalEffectError.unavailable("\(error)")
        }
    }
}
