import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import VetoCore

/// How many refusals are logged: at most `limit` a second for each reason code, on each event loop.
/// The rest are only counted (`veto_rejections_total` counts every refusal anyway), and when the
/// second is over one line says how many were left out:
///
///     suppressed 19990 refusal log lines for reason signature_invalid in 1 s (limit 10 per second)
///
/// A flood of forged tokens then costs a few lines a second instead of one per request (one line
/// each cost a third of the throughput and 22 MB of log in 8 s).
///
/// The state is per event loop and touched only on its thread, like the verification caches: the
/// refusal path takes no lock and shares no cache line between cores, and the allow path never
/// comes here. A second's summary is written by the next refusal after it, or by a timer each
/// loop runs once a second (`start`), whichever comes first. Calls from other threads (tests)
/// share one window under a lock.
final class RefusalLog: Sendable {
    /// Lines per reason per second on one loop; 0 logs no refusal at all.
    let limit: Int
    let logger: Logger
    private let byLoop: [ObjectIdentifier: LoopWindow]
    private let offLoop = NIOLockedValueBox(RefusalWindow())
    private let timers = NIOLockedValueBox<[RepeatedTask]>([])

    static let defaultLimit = 10
    /// Reason codes by position, for arrays instead of dictionaries on the refusal path.
    static let reasons = ReasonCode.allCases
    static let positions: [ReasonCode: Int] = Dictionary(uniqueKeysWithValues: reasons.enumerated().map { ($1, $0) })

    init(limit: Int = RefusalLog.defaultLimit, logger: Logger, eventLoops: [any EventLoop] = []) {
        self.limit = max(0, limit)
        self.logger = logger
        var byLoop: [ObjectIdentifier: LoopWindow] = [:]
        for loop in eventLoops { byLoop[ObjectIdentifier(loop)] = LoopWindow(eventLoop: loop) }
        self.byLoop = byLoop
    }

    /// Whether a refusal for `code` at `now` may be logged. Writes the summary of an earlier second first.
    func admit(_ code: ReasonCode, now: NIODeadline) -> Bool {
        guard limit > 0, let reason = Self.positions[code] else { return false }
        let second = now.uptimeNanoseconds / 1_000_000_000
        if let loop = MultiThreadedEventLoopGroup.currentEventLoop, let window = byLoop[ObjectIdentifier(loop)] {
            return window.state.admit(reason, second: second, limit: limit, emit: summarise)
        }
        return offLoop.withLockedValue { $0.admit(reason, second: second, limit: limit, emit: summarise) }
    }

    /// Writes the summaries of seconds that are over (the timer calls it on each loop).
    func flush(now: NIODeadline = .now()) {
        let second = now.uptimeNanoseconds / 1_000_000_000
        if let loop = MultiThreadedEventLoopGroup.currentEventLoop, let window = byLoop[ObjectIdentifier(loop)] {
            window.state.roll(to: second, emit: summarise)
        }
        offLoop.withLockedValue { $0.roll(to: second, emit: summarise) }
    }

    /// Runs `flush` once a second on every loop, so the last second of a flood is summarised too.
    func start() {
        guard limit > 0 else { return }
        let tasks = byLoop.values.map { window in
            window.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in flush() }
        }
        timers.withLockedValue { $0.append(contentsOf: tasks) }
    }

    func stop() {
        for task in timers.withLockedValue({ tasks in
            defer { tasks = [] }; return tasks
        }) { task.cancel() }
    }

    private func summarise(_ reason: Int, _ count: UInt64) {
        let code = Self.reasons[reason].rawValue
        logger.info(
            "suppressed \(count) refusal log lines for reason \(code) in 1 s (limit \(limit) per second)",
            metadata: ["code": .string(code), "suppressed": .stringConvertible(count)])
    }
}

/// One loop's window. `@unchecked Sendable`: `state` is used only on `eventLoop`'s thread
/// (`RefusalLog` hands it out only to code running there).
private final class LoopWindow: @unchecked Sendable {
    let eventLoop: any EventLoop
    var state = RefusalWindow()

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }
}

/// The counts of one second: refusals logged and refusals left out, per reason.
struct RefusalWindow {
    private(set) var second: UInt64 = 0
    private var logged = [Int](repeating: 0, count: RefusalLog.reasons.count)
    private var suppressed = [UInt64](repeating: 0, count: RefusalLog.reasons.count)
    private var anySuppressed = false

    /// Counts one refusal; true when it is among the first `limit` of its reason this second.
    mutating func admit(_ reason: Int, second: UInt64, limit: Int, emit: (Int, UInt64) -> Void) -> Bool {
        if second != self.second { roll(to: second, emit: emit) }
        if logged[reason] < limit {
            logged[reason] += 1
            return true
        }
        suppressed[reason] += 1
        anySuppressed = true
        return false
    }

    /// Starts `second` (when it is a later one), handing out each reason's count of lines left out.
    mutating func roll(to second: UInt64, emit: (Int, UInt64) -> Void) {
        guard second > self.second else { return }
        if anySuppressed {
            for reason in suppressed.indices where suppressed[reason] > 0 {
                emit(reason, suppressed[reason])
                suppressed[reason] = 0
            }
            anySuppressed = false
        }
        for reason in logged.indices { logged[reason] = 0 }
        self.second = second
    }
}
