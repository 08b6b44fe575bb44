import AsyncHTTPClient
import CoreMetrics
import Logging
import ServiceLifecycle
import VetoServer

/// The receivers' background work, in the application's service group: discovery, key refresh, stream
/// management and polling, each retried with backoff (at most 30 s). It stops on graceful shutdown and
/// then shuts its HTTP client down.
struct SignalsService: Service {
    let receivers: [SSFReceiver]
    let processor: SignalProcessor
    let transmitter: TransmitterClient
    let metricsFactory: any MetricsFactory
    let logger: Logger

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            for receiver in receivers {
                group.addTask { await self.run(receiver) }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        try? await transmitter.client.shutdown()
    }

    private func run(_ receiver: SSFReceiver) async {
        var tagged = self.logger
        tagged[metadataKey: "veto.signal.iss"] = .string(receiver.configuration.issuer)
        let logger = tagged
        let setup = StreamSetup(receiver: receiver, transmitter: transmitter, metricsFactory: metricsFactory, logger: logger)
        let configuredKeys = receiver.keys.issuerKeys
        await withTaskGroup(of: Void.self) { group in
            // Keys from jwks_url refresh from the start, whatever the metadata does.
            if let configuredKeys { group.addTask { await configuredKeys.run() } }
            group.addTask {
                await Self.retrying("reading the transmitter metadata", logger: logger) { () async throws(PollError) in try await setup.discover() }
                await withTaskGroup(of: Void.self) { group in
                    if configuredKeys == nil, let discovered = receiver.keys.issuerKeys {
                        group.addTask { await discovered.run() }
                    }
                    group.addTask { await streamAndPoll(receiver, setup: setup, logger: logger) }
                }
            }
        }
    }

    private func streamAndPoll(_ receiver: SSFReceiver, setup: StreamSetup, logger: Logger) async {
        await Self.retrying("managing the stream", logger: logger) { () async throws(PollError) in try await setup.manageStream() }
        guard receiver.configuration.delivery == .poll, !Task.isCancelled else { return }
        guard let url = receiver.pollURL else {
            logger.error("poll delivery, but neither poll_url nor the stream names a URL to poll; not polling")
            return
        }
        await PollService(receiver: receiver, url: url, transmitter: transmitter, processor: processor, logger: logger).run()
    }

    /// Runs `step` until it succeeds or the task is cancelled, waiting 1 s, 2 s, 4 s … (at most 30 s) between attempts.
    static func retrying(_ what: String, logger: Logger, _ step: () async throws(PollError) -> Void) async {
        var failures = 0
        while !Task.isCancelled {
            do throws(PollError) {
                try await step()
                return
            } catch {
                if Task.isCancelled { return }
                failures += 1
                let delay = PollStateMachine.backoff(failures, cap: .seconds(30))
                logger.warning(
                    "SSF start-up step failed; retrying",
                    metadata: ["veto.step": .string(what), "veto.reason": .string(error.description), "veto.retry_in": .string("\(delay)")])
                do { try await Task.sleep(for: delay) } catch { return }
            }
        }
    }
}
