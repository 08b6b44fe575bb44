import NIOCore

/// What a connection sends before anything else, and what the replies mean: AUTH, SELECT,
/// CLIENT SETNAME, ROLE and PING, as configured. Commands wait until every step has succeeded.
///
/// The handshake runs in the channel handler, step by step as the replies come in: the first failed
/// step fails the connection with an error that names the cause.
struct RedisHandshake: Sendable {
    enum Step: Sendable, Equatable {
        /// `who` names the credentials in the error: "for user 'veto'".
        case auth(who: String)
        case select(database: Int)
        case setName
        /// Sentinel names a master; it is used only once the server itself says it is one, so a
        /// demoted master that comes back is never written to.
        case role(required: String)
        /// Always last: the connection is ready only once the server has answered, which also catches
        /// a server that accepts connections but does not run (SIGSTOP), and one that wants AUTH.
        case ping
    }

    let endpoint: RedisConfiguration.Endpoint
    let steps: [Step]
    /// One per step, in the same order.
    let commands: [RedisCommand]
    /// From the first handshake command written to the last reply.
    let timeout: TimeAmount

    init(_ configuration: RedisConfiguration) {
        var steps = [Step]()
        var commands = [RedisCommand]()
        if let password = configuration.password {
            var arguments = [password]
            if let username = configuration.username { arguments.insert(username, at: 0) }
            steps.append(.auth(who: configuration.username.map { "for user '\($0)'" } ?? "with the configured password"))
            commands.append(RedisCommand("AUTH", arguments))
        }
        if configuration.database != 0 {
            steps.append(.select(database: configuration.database))
            commands.append(RedisCommand("SELECT", String(configuration.database)))
        }
        if let name = configuration.clientName {
            steps.append(.setName)
            commands.append(RedisCommand("CLIENT", "SETNAME", name))
        }
        if let role = configuration.requiredRole {
            steps.append(.role(required: role))
            commands.append(RedisCommand("ROLE"))
        }
        steps.append(.ping)
        commands.append(RedisCommand("PING"))
        self.endpoint = configuration.endpoint
        self.steps = steps
        self.commands = commands
        self.timeout = configuration.connectTimeout
    }

    /// The error the connection fails with when step `index` got `error` for a reply.
    func failure(ofStep index: Int, _ error: RedisError) -> RedisError {
        switch steps[index] {
        case .auth(let who) where error.code == .server:
            return RedisError(.authenticationFailed, "authentication failed \(who) at \(endpoint)")
        case .select(let database) where error.code == .server:
            return RedisError(.invalidConfiguration, "SELECT \(database) failed at \(endpoint): \(error.serverMessage ?? "")")
        case .ping where error.serverErrorPrefix == "NOAUTH":
            return RedisError(.authenticationFailed, "Redis at \(endpoint) requires authentication and no password is configured")
        default:
            return error
        }
    }

    /// Why the successful reply `value` to step `index` still fails the connection; `nil` if it does not.
    func problem(withReply value: RedisValue, ofStep index: Int) -> RedisError? {
        guard case .role(let required) = steps[index] else { return nil }
        let actual = value.array?.first?.string ?? "unknown"
        guard actual != required else { return nil }
        func name(_ role: String) -> String { role == "slave" ? "replica" : role }
        return RedisError(.unavailable, "Redis at \(endpoint) is a \(name(actual)), not the \(name(required)) it was named as")
    }

    /// The error when the handshake did not finish within ``timeout``.
    var timeoutError: RedisError {
        RedisError(.timeout, "Redis at \(endpoint) accepted the connection but did not answer within \(timeout.nanoseconds / 1_000_000) ms")
    }
}
