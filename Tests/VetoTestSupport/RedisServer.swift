import Foundation
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
    private var process: Process

    public var unixSocketPath: String { directory.appendingPathComponent("redis.sock").path }
    public var pid: pid_t { process.processIdentifier }

    public static let executable = "/usr/bin/redis-server"
    public static let cli = "/usr/bin/redis-cli"

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
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw TestSupportError("redis-server is not installed at \(Self.executable): run Scripts/test, or apt-get install redis-server")
        }
        self.port = try Self.freePort()
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("veto-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.extraArguments = extraArguments
        self.process = Process()
        try await launch()
    }

    private func launch() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", directory.path, "--unixsocket", unixSocketPath, "--unixsocketperm", "700",
            "--logfile", directory.appendingPathComponent("redis.log").path, "--daemonize", "no",
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
