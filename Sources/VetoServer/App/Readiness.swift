import NIOCore
import VetoCore
import VetoStore

/// What `/readyz` checks: every issuer has keys, the store answers, writes can read the published
/// rules, and Redis will not evict revocations.
enum Readiness {

    static func problems(issuers: [ConfiguredIssuer], blocklist: any Blocklist) async -> [ReadinessProblem] {
        var problems: [ReadinessProblem] = []
        let waiting = issuers.filter { !$0.keys.isReady }.map(\.name)
        if !waiting.isEmpty {
            problems.append(
                ReadinessProblem(
                    summary: "no keys loaded yet for \(waiting.count) of \(issuers.count) issuers",
                    detail: "no keys loaded yet for " + waiting.map(JSONWriter.quoted).joined(separator: ", ")))
        }
        do { try await blocklist.ping() } catch {
            problems.append(ReadinessProblem(summary: "blocklist store unavailable", detail: "blocklist store unavailable: \(error)"))
            return problems
        }
        guard let redis = (blocklist as? RedisBlocklist) ?? (blocklist as? ReplicatedBlocklist)?.redis else { return problems }
        // Every write reads the published rules first: if that fails, no revocation can be stored.
        do { _ = try await redis.publishedRules(on: redis.eventLoopGroup.any()).get() } catch {
            problems.append(
                ReadinessProblem(summary: "blocklist writes fail", detail: "the revocation rules at the prefix's rules key cannot be read: \(error)"))
        }
        if let evicting = try? await redis.evictingMasters(on: redis.eventLoopGroup.any()), !evicting.isEmpty {
            problems.append(
                ReadinessProblem(
                    summary: "the blocklist store may evict revocations (maxmemory-policy is not noeviction)",
                    detail: evicting.map { "Redis \($0.endpoint) has maxmemory-policy \($0.policy), which may evict revocations; set noeviction" }
                        .joined(separator: "; ")))
        }
        return problems
    }
}
