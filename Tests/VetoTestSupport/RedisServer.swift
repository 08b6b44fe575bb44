import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real `redis-server` on a free loopback port and a unix socket in a temp dir, for one test.
///
/// Use ``with(_:_:)``: it kills the server however the test ends. Shared by the VetoRedis and
/// VetoStore test targets through this support target.
public final class RedisServer: @unchecked Sendable {
    // @unchecked Sendable: `process` is replaced only by kill/restart, which tests call from one task.
    public let port: Int
    public let directory: URL
    public let extraArguments: [String]
    private let executable: String
    private var process: Process

    public var unixSocketPath: String { directory.appendingPathComponent("redis.sock").path }
    public var pid: pid_t { process.processIdentifier }

    /// The `redis-server` to start: `$VETO_TEST_REDIS_SERVER` when set (a path that is no executable
    /// makes the server count as absent, which is how the skip is tested), else the first on `PATH`.
    public static let executable: String? = {
        if let configured = ProcessInfo.processInfo.environment["VETO_TEST_REDIS_SERVER"] {
            return FileManager.default.isExecutableFile(atPath: configured) ? configured : nil
        }
        return onPath("redis-server")
    }()

    /// `redis-cli` beside that `redis-server`, else the first on `PATH`.
    public static let cli: String? = {
        if let executable {
            let beside = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("redis-cli").path
            if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        }
        return onPath("redis-cli")
    }()

    /// Whether tests can start servers here. Suites that need one say `@Suite(.requiresRedisServer)`
    /// and are skipped, with ``unavailableReason`` printed, where it is `false`.
    public static var isAvailable: Bool { executable != nil && cli != nil }

    /// `VETO_REQUIRE_REDIS_SERVER=1` (set by `Scripts/test`, so CI never goes green without Redis
    /// coverage): suites that need redis-server run, and fail with ``unavailableReason``, instead of
    /// being skipped.
    public static var isRequired: Bool { ProcessInfo.processInfo.environment["VETO_REQUIRE_REDIS_SERVER"] == "1" }

    /// Why suites that need redis-server are skipped.
    public static var unavailableReason: String {
        if let configured = ProcessInfo.processInfo.environment["VETO_TEST_REDIS_SERVER"], executable == nil {
            return "VETO_TEST_REDIS_SERVER=\(configured) is not an executable; point it at redis-server, or unset it to use the one on PATH"
        }
        if executable == nil {
            return "redis-server is not on PATH; install it (apt install redis-server) to run this suite"
        }
        return "redis-cli is not beside redis-server nor on PATH; install it (apt install redis-tools) to run this suite"
    }

    private static func onPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Starts a server, runs `body`, and kills the server afterwards.
    public static func with<T>(
        _ extraArguments: [String] = [],
        _ body: (RedisServer) async throws -> T
    ) async throws -> T {
        let server = try await RedisServer(extraArguments: extraArguments)
        defer { server.destroy() }
        return try await body(server)
    }

    private init(extraArguments: [String]) async throws {
        guard let executable = Self.executable, Self.cli != nil else {
            throw TestSupportError("\(Self.unavailableReason) (mark the suite @Suite(.requiresRedisServer) to skip it instead)")
        }
        self.executable = executable
        self.port = try Self.freePort()
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("veto-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.extraArguments = extraArguments
        self.process = Process()
        try await launch()
    }

    private func launch() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments =
            [
                "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", directory.path, "--unixsocket", unixSocketPath, "--unixsocketperm", "700",
                "--logfile", directory.appendingPathComponent("redis.log").path, "--daemonize", "no"
            ] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        // Any answer, PONG or NOAUTH, means the server is up.
        try await poll("redis-server on port \(port) to accept connections", timeout: 10) {
            let reply = Self.runCLI(["-p", String(self.port), "PING"])
            return reply.contains("PONG") || reply.contains("NOAUTH")
        }
    }

    /// `redis-cli -p PORT ARGS…` as the default user (extra arguments may add `--user`/`--pass`).
    @discardableResult
    public func cli(_ arguments: String...) -> String {
        Self.runCLI(["-p", String(port)] + arguments)
    }

    public func cli(_ arguments: [String]) -> String {
        Self.runCLI(["-p", String(port)] + arguments)
    }

    /// A field of `INFO section`, e.g. `info("stats", "total_reads_processed")`.
    public func info(_ section: String, _ field: String) -> String? {
        for line in cli("INFO", section).split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0] == field { return String(parts[1]) }
        }
        return nil
    }

    public func pause() { kill(process.processIdentifier, SIGSTOP) }
    public func resume() { kill(process.processIdentifier, SIGCONT) }

    /// SIGKILL, then waits until the port refuses connections.
    public func killHard() async throws {
        kill(process.processIdentifier, SIGKILL)
        try await poll("redis-server to die", timeout: 10) { !self.process.isRunning }
    }

    /// Starts the server again on the same port and socket (empty: it persists nothing).
    public func restart() async throws {
        try await launch()
    }

    private func destroy() {
        kill(process.processIdentifier, SIGCONT)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    private static func runCLI(_ arguments: [String]) -> String {
        guard let cli else { return "" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: cli)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do { try process.run() } catch { return "" }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A loopback port nobody listens on right now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestSupportError("bind() to a free port failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension Trait where Self == ConditionTrait {
    /// For suites and tests that start a real redis-server: where there is none, they are skipped
    /// and the run prints why (``RedisServer/unavailableReason``), rather than failing.
    public static var requiresRedisServer: Self {
        .enabled(if: RedisServer.isAvailable || RedisServer.isRequired, Comment(rawValue: RedisServer.unavailableReason))
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Polls `condition` every 10 ms until it holds, failing after `timeout` seconds.
public func poll(_ what: String, timeout: Double, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if try await condition() { return }
        guard Date() < deadline else { throw TestSupportError("timed out after \(timeout) s waiting for \(what)") }
        try await Task.sleep(nanoseconds: 10_000_000)
    }
}
