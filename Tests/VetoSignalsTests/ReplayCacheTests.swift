import Testing
import VetoSignals

@Suite struct ReplayCacheTests {
    let key = ReplayCache.Key(source: "https://op.test", jti: "j1")

    @Test func aJTIIsRefusedWhileRememberedAndAgainAfterItExpires() {
        var cache = ReplayCache(capacity: 10)
        #expect(cache.reserve(key, now: 100) == .reserved)
        // A concurrent delivery of the same jti while the first is being stored.
        #expect(cache.reserve(key, now: 100) == .replayed)
        cache.remember(key, until: 200)
        #expect(cache.reserve(key, now: 199) == .replayed)
        #expect(cache.reserve(key, now: 200) == .reserved)
    }

    @Test func aFailedStoreForgetsTheReservationSoTheRetryIsApplied() {
        var cache = ReplayCache(capacity: 10)
        #expect(cache.reserve(key, now: 1) == .reserved)
        cache.release(key)
        #expect(cache.reserve(key, now: 1) == .reserved)
        cache.remember(key, until: 50)
        // Releasing a remembered jti does nothing.
        cache.release(key)
        #expect(cache.reserve(key, now: 2) == .replayed)
    }

    @Test func jtisArePerSourceAndComparedByBytes() {
        var cache = ReplayCache(capacity: 10)
        #expect(cache.reserve(ReplayCache.Key(source: "a", jti: "caf\u{e9}"), now: 1) == .reserved)
        #expect(cache.reserve(ReplayCache.Key(source: "a", jti: "cafe\u{301}"), now: 1) == .reserved)
        #expect(cache.reserve(ReplayCache.Key(source: "b", jti: "caf\u{e9}"), now: 1) == .reserved)
    }

    @Test func memoryIsBoundedWhateverASenderDoes() {
        var cache = ReplayCache(capacity: 100)
        for index in 0..<10_000 {
            let key = ReplayCache.Key(source: "s", jti: "j\(index)")
            #expect(cache.reserve(key, now: 1) == .reserved)
            cache.remember(key, until: 1_000_000)
        }
        #expect(cache.count <= 101)
        // The newest are still refused; the oldest were forgotten (harmless: a cut-off never moves back).
        #expect(cache.reserve(ReplayCache.Key(source: "s", jti: "j9999"), now: 2) == .replayed)
        #expect(cache.reserve(ReplayCache.Key(source: "s", jti: "j0"), now: 2) == .reserved)
        // The same jti reserved and released over and over (a store that is down) does not grow it either.
        for _ in 0..<10_000 {
            _ = cache.reserve(key, now: 3)
            cache.release(key)
        }
        #expect(cache.count <= 101)
    }
}
