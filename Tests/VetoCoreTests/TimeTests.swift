import Testing
import VetoCore

@Suite struct TimeTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z"),
        (1_712_400_000, "2024-04-06T10:40:00Z"),
        (1_712_403_600.25, "2024-04-06T11:40:00.250Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (-86_400, "1969-12-31T00:00:00Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z")
    ])
    func formatsISO8601(seconds: Double, expected: String) {
        #expect(UTCTime.iso8601(seconds) == expected)
    }

    @Test(arguments: [
        ("1712400000", 1_712_400_000.0),
        ("2024-04-06T10:40:00Z", 1_712_400_000),
        ("2024-04-06T12:40:00+02:00", 1_712_400_000),
        ("2024-04-06T05:40:00-0500", 1_712_400_000),
        ("2024-04-06 10:40:00.5Z", 1_712_400_000.5),
        ("2024-04-06", 1_712_361_600)
    ])
    func parsesInstants(text: String, expected: Double) {
        #expect(UTCTime.parse(text) == expected)
    }

    @Test(arguments: ["yesterday", "2024-13-01", "2024-04-06T25:00", "2024-04-06T10:40:00Q", "nan", "inf"])
    func refusesNonTimes(text: String) {
        #expect(UTCTime.parse(text) == nil)
    }

    @Test func humanDurations() {
        #expect(HumanDuration.format(45) == "45 s")
        #expect(HumanDuration.format(41 * 60) == "41 min")
        #expect(HumanDuration.format(3 * 3600 + 12 * 60) == "3 h 12 min")
        #expect(HumanDuration.format(52 * 3600) == "2 d 4 h")
        #expect(HumanDuration.relative(100, now: 0) == "in 1 min 40 s")
        #expect(HumanDuration.relative(0, now: 3 * 3600 + 12 * 60) == "3 h 12 min ago")
    }
}
