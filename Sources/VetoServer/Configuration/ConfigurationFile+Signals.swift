import VetoCore

/// `issuers[].backchannel_logout` and `ssf.receivers[]` (the identity-provider receivers). Secrets
/// and key files are read here, at start, so a missing file stops `veto serve` naming the field.
extension ConfigurationFile {
    static func backchannelLogout(_ entry: inout Reader) throws -> BackchannelLogoutConfiguration? {
        guard var block = try entry.object("backchannel_logout") else { return nil }
        let field = block.field("audiences")
        guard let audiences = try block.strings("audiences"), !audiences.isEmpty, audiences.allSatisfy({ !$0.isEmpty }) else {
            throw ConfigurationError(field, "is required: the client ids a logout token's aud may name (a non-empty list of strings)")
        }
        try block.finish()
        return BackchannelLogoutConfiguration(audiences: audiences)
    }

    static func ssf(_ reader: inout Reader) throws -> SSFConfiguration {
        var configuration = SSFConfiguration()
        guard var block = try reader.object("ssf") else { return configuration }
        for (index, var entry) in try block.list("receivers").enumerated() {
            configuration.receivers.append(try receiver(&entry, field: "ssf.receivers[\(index)]"))
            try entry.finish()
        }
        try block.finish()
        var issuers: Set<ExactString> = []
        var authorizations: Set<ExactString> = []
        for (index, receiver) in configuration.receivers.enumerated() {
            guard issuers.insert(ExactString(receiver.issuer)).inserted else {
                throw ConfigurationError("ssf.receivers[\(index)].issuer", "\"\(receiver.issuer)\" is configured twice")
            }
            // A push is matched to its receiver by this value alone.
            if let authorization = receiver.pushAuthorization, !authorizations.insert(ExactString(authorization)).inserted {
                throw ConfigurationError(
                    "ssf.receivers[\(index)].push_authorization_file", "holds the same value as another receiver's: each transmitter needs its own")
            }
        }
        return configuration
    }

    private static func receiver(_ entry: inout Reader, field: String) throws -> SSFReceiverConfiguration {
        guard let issuer = try entry.string("issuer"), !issuer.isEmpty else { throw ConfigurationError("\(field).issuer", "is required") }
        guard let audience = try entry.string("audience"), !audience.isEmpty else { throw ConfigurationError("\(field).audience", "is required") }
        var item = SSFReceiverConfiguration(issuer: issuer, audience: audience)
        item.configurationURL = try url(&entry, "configuration_url", field: field)
        item.jwksURL = try url(&entry, "jwks_url", field: field)
        item.keys = try (entry.strings("keys") ?? []).enumerated().map { position, spec in
            try KeySpec.resolve(spec, base: entry.base, field: "\(field).keys[\(position)]")
        }
        if let names = try entry.strings("algorithms") {
            guard !names.isEmpty else { throw ConfigurationError("\(field).algorithms", "must name at least one algorithm") }
            item.algorithms = try names.map { name in
                guard let algorithm = JWSAlgorithm(rawValue: name) else {
                    throw ConfigurationError(
                        "\(field).algorithms",
                        "\"\(name)\" is not a supported algorithm (\(JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return algorithm
            }
        }
        if let delivery = try entry.string("delivery") {
            guard let value = SSFReceiverConfiguration.Delivery(rawValue: delivery) else {
                throw ConfigurationError("\(field).delivery", "\"\(delivery)\" is not push or poll")
            }
            item.delivery = value
        }
        if let file = try entry.path("push_authorization_file") {
            item.pushAuthorization = try SecretSource.file(file, field: "\(field).push_authorization_file")
        }
        item.pollURL = try url(&entry, "poll_url", field: field)
        if let interval = try entry.number("poll_interval", positive: true) { item.pollInterval = interval }
        if let file = try entry.path("manage_token_file") {
            item.manageToken = try SecretSource.file(file, field: "\(field).manage_token_file")
        }
        if let file = try entry.path("read_token_file") {
            item.readToken = try SecretSource.file(file, field: "\(field).read_token_file")
        }
        if let stream = try entry.string("stream") {
            guard let value = SSFReceiverConfiguration.StreamAction(rawValue: stream) else {
                throw ConfigurationError("\(field).stream", "\"\(stream)\" is not none, create or read")
            }
            item.stream = value
        }
        item.streamID = try entry.string("stream_id")
        item.pushEndpointURL = try url(&entry, "push_endpoint_url", field: field)
        if let issuers = try entry.strings("token_issuers") {
            guard !issuers.isEmpty, issuers.allSatisfy({ !$0.isEmpty }) else {
                throw ConfigurationError("\(field).token_issuers", "must be a non-empty list of configured issuers")
            }
            item.tokenIssuers = issuers
        }
        item.verify = try entry.bool("verify") ?? false
        try check(item, field: field)
        return item
    }

    /// An absolute http(s) URL; plain http only to this machine, since bearer tokens and keys travel there.
    private static func url(_ entry: inout Reader, _ key: String, field: String) throws -> String? {
        guard let text = try entry.string(key) else { return nil }
        guard let url = HTTPURL(text) else { throw ConfigurationError("\(field).\(key)", "must be an absolute http:// or https:// URL") }
        // push_endpoint_url is this service's own address, which the transmitter calls: it carries nothing of ours.
        guard url.isHTTPS || url.isLoopback || key == "push_endpoint_url" else {
            throw ConfigurationError(
                "\(field).\(key)",
                "is plain http on a host other than loopback, where anyone on the network path could read the tokens or swap the keys; use https")
        }
        return text
    }

    /// The combinations that could never work, refused before anything listens.
    private static func check(_ item: SSFReceiverConfiguration, field: String) throws {
        if item.jwksURL == nil, item.keys.isEmpty, item.configurationURL == nil {
            throw ConfigurationError(
                "\(field).jwks_url", "the transmitter's keys are needed: give jwks_url, keys, or configuration_url (its jwks_uri)")
        }
        switch item.delivery {
        case .push:
            guard item.pushAuthorization != nil else {
                throw ConfigurationError(
                    "\(field).push_authorization_file", "is required for push delivery: the exact Authorization value the transmitter sends")
            }
        case .poll:
            guard item.pollURL != nil || item.stream != .none else {
                throw ConfigurationError("\(field).poll_url", "is required for poll delivery (or stream: create/read, whose answer gives it)")
            }
        }
        switch item.stream {
        case .none:
            guard !item.verify else { throw ConfigurationError("\(field).verify", "needs a stream: set stream to create or read") }
        case .create:
            guard item.manageToken != nil else { throw ConfigurationError("\(field).manage_token_file", "is required to create a stream") }
            guard item.delivery == .poll || item.pushEndpointURL != nil else {
                throw ConfigurationError("\(field).push_endpoint_url", "is required to create a push stream: where the transmitter delivers")
            }
        case .read:
            guard item.streamID?.isEmpty == false else { throw ConfigurationError("\(field).stream_id", "is required to read a stream") }
        }
        if item.stream != .none, item.configurationURL == nil {
            throw ConfigurationError("\(field).configuration_url", "is required with stream: \(item.stream.rawValue) (it names the stream endpoints)")
        }
    }
}
