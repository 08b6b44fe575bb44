import Testing
import VetoCore

@Suite struct RevocationRulesTests {
    let rules = RevocationRules(leeway: 60, maxTokenLifetime: 86_400)

    @Test func entryOutlivesTheTokenByTheLeeway() {
        #expect(rules.entryExpiry(tokenExpiresAt: 1_000, now: 500) == 1_060)
        #expect(rules.entryExpiry(tokenExpiresAt: nil, now: 500) == 500 + 86_400 + 2 * 60)
        #expect(rules.cutoffExpiry(cutoff: 1_000) == 1_000 + 86_460)
    }

    @Test func timeToLiveRoundsUpAndIsNeverZero() {
        #expect(RevocationRules.timeToLive(until: 1_060, now: 1_000) == 60_000)
        #expect(RevocationRules.timeToLive(until: 1_060, now: 1_000.0004) == 60_000)
        #expect(RevocationRules.timeToLive(until: 1_060.0001, now: 1_000) == 60_001)
        #expect(RevocationRules.timeToLive(until: 1_000, now: 1_000) == 1)
        #expect(RevocationRules.timeToLive(until: 900, now: 1_000) == 1)
    }

    @Test func expiryIsExclusive() {
        #expect(!RevocationRules.isExpired(1_000, now: 999.999))
        #expect(RevocationRules.isExpired(1_000, now: 1_000))
    }

    @Test func cutoffRejectsIssuedAtOrBeforeAndWithoutIat() {
        #expect(RevocationRules.cutoffRejects(issuedAt: 1_000, cutoff: 1_000))
        #expect(RevocationRules.cutoffRejects(issuedAt: 999, cutoff: 1_000))
        #expect(!RevocationRules.cutoffRejects(issuedAt: 1_000.001, cutoff: 1_000))
        #expect(RevocationRules.cutoffRejects(issuedAt: nil, cutoff: 1_000))
        #expect(RevocationRules.cutoffRejects(issuedAt: .nan, cutoff: 1_000))
        #expect(RevocationRules.cutoffRejects(issuedAt: .infinity, cutoff: 1_000))
    }

    @Test func mergingNeverGoesBackwards() {
        #expect(RevocationRules.mergedExpiry(existing: 2_000, requested: 1_500) == 2_000)
        #expect(RevocationRules.mergedExpiry(existing: 1_000, requested: 1_500) == 1_500)
        #expect(RevocationRules.mergedExpiry(existing: nil, requested: 1_500) == 1_500)
        #expect(RevocationRules.mergedCutoff(existing: 2_000, requested: 1_500) == 2_000)
        #expect(RevocationRules.mergedCutoff(existing: nil, requested: 1_500) == 1_500)
    }
}
