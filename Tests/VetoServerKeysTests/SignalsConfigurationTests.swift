import Foundation
import Testing
import VetoCore
import VetoServer

/// `issuers[].backchannel_logout` and `ssf.receivers[]` in the configuration file (contract §2):
/// unknown keys are errors, files are read at start, impossible combinations are refused.
@Suite struct SignalsConfigurationTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("veto-ssf-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "Bearer push-secret\n".write(toFile: directory + "/push.auth", atomically: true, encoding: .utf8)
        try "manage-token\n".write(toFile: directory + "/manage.token", atomically: true, encoding: .utf8)
        try "read-token".write(toFile: directory + "/read.token", atomically: true, encoding: .utf8)
    }

    func parse(_ text: String) throws -> ServiceConfiguration {
        try ConfigurationFile.parse(text, baseDirectory: directory, environment: [:])
    }

    func problem(_ text: String) -> ConfigurationError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error as? ConfigurationError
        }
    }

    @Test func everyKeyIsRead() throws {
        let configuration = try parse(
            """
            issuers:
              - issuer: https://op.test
                jwks_url: http://127.0.0.1:1/jwks
                backchannel_logout:
                  audiences: [client-a, client-b]
            ssf:
              receivers:
                - issuer: https://tx.test
                  audience: https://veto.test/ssf
                  configuration_url: http://127.0.0.1:2/.well-known/ssf-configuration
                  jwks_url: https://tx.test/jwks
                  keys: ["RS256:tx.pem"]
                  algorithms: [RS256, PS256]
                  delivery: push
                  push_authorization_file: push.auth
                  manage_token_file: manage.token
                  read_token_file: read.token
                  stream: create
                  push_endpoint_url: http://veto.example/ssf/events
                  token_issuers: [https://op.test]
                  verify: true
                - issuer: https://poll.test
                  audience: veto
                  jwks_url: https://poll.test/jwks
                  delivery: poll
                  poll_url: https://poll.test/poll
                  poll_interval: 2
                  stream: read
                  stream_id: abc
                  configuration_url: https://poll.test/.well-known/ssf-configuration
            """)
        #expect(configuration.issuers[0].backchannelLogout == BackchannelLogoutConfiguration(audiences: ["client-a", "client-b"]))
        let push = configuration.ssf.receivers[0]
        #expect(push.issuer == "https://tx.test" && push.audience == "https://veto.test/ssf")
        #expect(push.keys == ["RS256:\(directory)/tx.pem"] && push.algorithms == [.rs256, .ps256])
        #expect(push.pushAuthorization == "Bearer push-secret" && push.manageToken == "manage-token" && push.readToken == "read-token")
        #expect(push.stream == .create && push.verify && push.tokenIssuers == ["https://op.test"])
        let poll = configuration.ssf.receivers[1]
        #expect(poll.delivery == .poll && poll.pollInterval == 2 && poll.stream == .read && poll.streamID == "abc")
        #expect(poll.algorithms == [.rs256] && poll.tokenIssuers == nil && poll.pushAuthorization == nil && !poll.verify)
    }

    static let receiver: String = "ssf:\n  receivers:\n    - issuer: https://tx.test\n      audience: a\n      jwks_url: https://tx.test/jwks\n"

    static let mistakes: [(text: String, field: String)] = [
        ("issuers:\n  - issuer: i\n    backchannel_logout: {}\n", "issuers[0].backchannel_logout.audiences"),
        ("issuers:\n  - issuer: i\n    backchannel_logout:\n      audiences: []\n", "issuers[0].backchannel_logout.audiences"),
        ("issuers:\n  - issuer: i\n    backchannel_logout:\n      audiences: [a]\n      audience: b\n", "issuers[0].backchannel_logout.audience"),
        ("ssf:\n  receiver: []\n", "ssf.receiver"),
        ("ssf:\n  receivers:\n    - audience: a\n", "ssf.receivers[0].issuer"),
        ("ssf:\n  receivers:\n    - issuer: i\n", "ssf.receivers[0].audience"),
        (receiver, "ssf.receivers[0].push_authorization_file"),
        ("\(receiver)      push_authorization_file: missing.auth\n", "ssf.receivers[0].push_authorization_file"),
        ("\(receiver)      push_authorization_file: push.auth\n      colour: red\n", "ssf.receivers[0].colour"),
        ("\(receiver)      push_authorization_file: push.auth\n      delivery: carrier-pigeon\n", "ssf.receivers[0].delivery"),
        ("\(receiver)      delivery: poll\n", "ssf.receivers[0].poll_url"),
        ("\(receiver)      delivery: poll\n      poll_url: http://tx.test/poll\n", "ssf.receivers[0].poll_url"),
        ("\(receiver)      delivery: poll\n      poll_url: https://tx.test/poll\n      poll_interval: 0\n", "ssf.receivers[0].poll_interval"),
        ("\(receiver)      push_authorization_file: push.auth\n      stream: read\n", "ssf.receivers[0].stream_id"),
        ("\(receiver)      push_authorization_file: push.auth\n      stream: read\n      stream_id: s\n", "ssf.receivers[0].configuration_url"),
        ("\(receiver)      push_authorization_file: push.auth\n      stream: create\n", "ssf.receivers[0].manage_token_file"),
        (
            "\(receiver)      push_authorization_file: push.auth\n      stream: create\n      manage_token_file: manage.token\n",
            "ssf.receivers[0].push_endpoint_url"
        ),
        ("\(receiver)      push_authorization_file: push.auth\n      stream: sometimes\n", "ssf.receivers[0].stream"),
        ("\(receiver)      push_authorization_file: push.auth\n      verify: true\n", "ssf.receivers[0].verify"),
        ("\(receiver)      push_authorization_file: push.auth\n      algorithms: [RS257]\n", "ssf.receivers[0].algorithms"),
        ("\(receiver)      push_authorization_file: push.auth\n      token_issuers: []\n", "ssf.receivers[0].token_issuers"),
        ("\(receiver)      push_authorization_file: push.auth\n      push_authorization: Bearer x\n", "ssf.receivers[0].push_authorization"),
        ("ssf:\n  receivers:\n    - issuer: i\n      audience: a\n      push_authorization_file: push.auth\n", "ssf.receivers[0].jwks_url"),
        (
            "ssf:\n  receivers:\n    - issuer: i\n      audience: a\n      push_authorization_file: push.auth\n      jwks_url: http://10.0.0.1/jwks\n",
            "ssf.receivers[0].jwks_url"
        ),
        (
            "\(receiver)      push_authorization_file: push.auth\n    - issuer: https://tx.test\n      audience: b\n      keys: [k.pem]\n      push_authorization_file: manage.token\n",
            "ssf.receivers[1].issuer"
        ),
        (
            "\(receiver)      push_authorization_file: push.auth\n    - issuer: https://tx2.test\n      audience: b\n      keys: [k.pem]\n      push_authorization_file: push.auth\n",
            "ssf.receivers[1].push_authorization_file"
        )
    ]

    @Test(arguments: mistakes)
    func mistakesNameTheirField(text: String, field: String) {
        #expect(problem(text)?.field == field, "\(text)")
    }
}
