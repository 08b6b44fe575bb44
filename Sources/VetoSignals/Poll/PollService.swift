import Logging
import NIOHTTP1
import VetoServer

/// Performs one receiver's `PollStateMachine` actions: the requests, the checks, the waits. Runs until
/// its task is cancelled; a transmitter that is down or restarting only delays it.
struct PollService: Sendable {
    let receiver: SSFReceiver
    let url: HTTPURL
    let transmitter: TransmitterClient
    let processor: SignalProcessor
    let logger: Logger

    func run() async {
        var machine = PollStateMachine(interval: .milliseconds(Int64(receiver.configuration.pollInterval * 1000)))
        var action = machine.start()
        while !Task.isCancelled {
            switch action {
            case let .poll(request):
                do throws(PollError) {
                    action = machine.received(try await poll(request))
                } catch {
                    if Task.isCancelled { return }
                    action = machine.failed()
                    var retry = Duration.zero
                    if case let .wait(delay) = action { retry = delay }
                    logger.warning(
                        "SSF poll failed; retrying",
                        metadata: [
                            "veto.signal.iss": .string(receiver.configuration.issuer), "veto.reason": .string(error.description),
                            "veto.failures": .string(String(machine.failures)), "veto.retry_in": .string("\(retry)")
                        ])
                }
            case let .process(sets):
                var results: [(jti: String, result: PollStateMachine.Result)] = []
                for set in sets {
                    results.append((set.jti, Self.result(await processor.securityEvent(set.token, validator: receiver.validator))))
                }
                action = machine.processed(results)
            case let .wait(duration):
                do { try await Task.sleep(for: duration) } catch { return }
                action = machine.waited()
            }
        }
    }

    private func poll(_ request: PollRequest) async throws(PollError) -> PollResponse {
        let answer = try await transmitter.send(.POST, url, bearer: receiver.configuration.readToken, json: request.json)
        guard answer.status == .ok else {
            throw PollError("POST \(url.redacted): the transmitter answered \(answer.status.code) \(answer.status.reasonPhrase)")
        }
        return try PollResponse.parse(answer.body, maxSets: max(request.maxEvents, 1) * 2)
    }

    static func result(_ outcome: SignalOutcome) -> PollStateMachine.Result {
        switch outcome {
        case .applied, .ignored: .stored
        case let .refused(refusal): .refused(PollRequest.SETError(err: refusal.code.setError, description: refusal.message))
        case .unavailable: .notStored
        }
    }
}
