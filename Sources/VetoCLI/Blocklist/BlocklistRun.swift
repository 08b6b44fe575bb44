import ArgumentParser
import VetoStore

/// Opens the store, runs a subcommand's body, closes the store, and turns failures into one line on
/// stderr plus the documented exit status.
enum BlocklistRun {
    /// `readOnly`: the command only reads, so a data dir is opened without writing anything.
    static func run(_ options: BlocklistStoreOptions, readOnly: Bool = false, _ body: (any Blocklist) async throws -> Void) async throws {
        let store: any Blocklist
        do {
            store = try await options.open(readOnly: readOnly)
        } catch {
            throw exit(for: error)
        }
        do {
            try await body(store)
        } catch {
            await store.close()
            throw exit(for: error)
        }
        await store.close()
    }

    /// Exit 1 after a "not found" line.
    static func notFound(_ message: String) -> ExitCode {
        StandardStreams.printError(message)
        return ExitCode(1)
    }

    static func exit(for error: any Error) -> any Error {
        switch error {
        case let exitCode as ExitCode:
            return exitCode
        case let usage as UsageFailure:
            StandardStreams.printError("error: \(usage.message)")
            return ExitCode(2)
        case let store as StoreError:
            StandardStreams.printError("error: \(store.message)")
            return ExitCode(store.code == .invalidArgument ? 2 : 3)
        default:
            StandardStreams.printError("error: \(error)")
            return ExitCode(3)
        }
    }
}
