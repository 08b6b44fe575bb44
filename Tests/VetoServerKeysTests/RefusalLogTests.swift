import InMemoryLogging
import Logging
import NIOCore
import NIOPosix
import Testing
import VetoCore

@testable import VetoServer

/// Issue 12, "a flood of invalid tokens": refusals are logged at most N per reason per second on
/// each event loop, and the rest summed up in one line.
@Suite struct RefusalLogTests {
    @Test func floodWindowLogsTheFirstNPerReasonThenSumsUpTheRest() {
        var window = RefusalWindow()
        var summaries: [(Int, UInt64)] = []
        let signature = RefusalLog.positions[.signatureInvalid]!, audience = RefusalLog.positions[.audienceMismatch]!
        let admitted = (0..<2_000).filter { _ in window.admit(signature, second: 7, limit: 10) { summaries.append(($0, $1)) } }.count
        #expect(admitted == 10)
        #expect(window.admit(audience, second: 7, limit: 10) { summaries.append(($0, $1)) })  // another reason has its own count
        #expect(summaries.isEmpty)
        #expect(window.admit(signature, second: 8, limit: 10) { summaries.append(($0, $1)) })  // a new second: logged again
        #expect(summaries.count == 1 && summaries[0].0 == signature && summaries[0].1 == 1_990)
        window.roll(to: 9) { summaries.append(($0, $1)) }
        #expect(summaries.count == 1)  // nothing left out in second 8
    }

    @Test func floodRefusalLogWritesOneSummaryLine() {
        let handler = InMemoryLogHandler()
        let log = RefusalLog(limit: 3, logger: Logger(label: "test") { _ in handler })
        let start = NIODeadline.uptimeNanoseconds(5_000_000_000)
        let admitted = (0..<100).filter { log.admit(.signatureInvalid, now: start + .milliseconds(Int64($0))) }.count
        #expect(admitted == 3)
        #expect(handler.entries.isEmpty)
        log.flush(now: start + .seconds(1))
        #expect(
            handler.entries.map(\.message.description) == ["suppressed 97 refusal log lines for reason signature_invalid in 1 s (limit 3 per second)"]
        )
        #expect(handler.entries.first?.metadata["suppressed"]?.description == "97")

        let silent = RefusalLog(limit: 0, logger: Logger(label: "test") { _ in handler })
        #expect(!(0..<10).contains { _ in silent.admit(.signatureInvalid, now: start) })
    }

    @Test func floodEachEventLoopCountsOnItsOwnThreadAndItsTimerSumsUp() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let handler = InMemoryLogHandler()
        let loops = Array(group.makeIterator())
        let log = RefusalLog(limit: 5, logger: Logger(label: "test") { _ in handler }, eventLoops: loops)
        log.start()
        for loop in loops {
            let admitted = try await loop.submit { (0..<50).filter { _ in log.admit(.malformedToken, now: .now()) }.count }.get()
            #expect((5...10).contains(admitted))  // 5 a second; the 50 may straddle a second boundary
        }
        try await Task.sleep(for: .milliseconds(2_300))
        log.stop()
        let suppressed = handler.entries.compactMap { $0.metadata["suppressed"].flatMap { UInt64($0.description) } }.reduce(0, +)
        let logged = 100 - suppressed
        #expect((10...20).contains(logged), "\(handler.entries.map(\.message))")
        try await group.shutdownGracefully()
    }
}
