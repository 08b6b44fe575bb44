import HTTPTypes
import NIOCore
import NIOHTTP1
import Testing

@testable import VetoServer

/// The data plane writes its answers as bytes itself; these pin the framing and prove that header
/// values are legalised exactly as `HTTPField` does, so a claim can never split the response.
@Suite struct WireResponseTests {
    let allocator = ByteBufferAllocator()

    @Test func serialisesStatusHeadersLengthAndBody() {
        var head = allocator.buffer(capacity: 64)
        WireResponse.appendHeader("X-Auth-Subject", "alice", into: &head)
        let response = WireResponse(status: .unauthorized, headerLines: head, body: allocator.buffer(string: "{}"))
        #expect(
            String(buffer: response.serialized(close: false, allocator: allocator))
                == "HTTP/1.1 401 Unauthorized\r\nX-Auth-Subject: alice\r\nContent-Length: 2\r\n\r\n{}")
        #expect(
            String(buffer: response.serialized(close: true, allocator: allocator))
                == "HTTP/1.1 401 Unauthorized\r\nX-Auth-Subject: alice\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    }

    @Test func anHTTPResponseKeepsItsFields() {
        let response = HTTPResponse(status: .ok, headerFields: [.contentType: "application/json", .retryAfter: "1"])
        let wire = WireResponse(response, body: allocator.buffer(string: "x"), allocator: allocator)
        #expect(
            String(buffer: wire.serialized(close: false, allocator: allocator))
                == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nRetry-After: 1\r\nContent-Length: 1\r\n\r\nx")
    }

    @Test(arguments: [
        "plain", "", " leading", "trailing ", "\t tabs \t", "a\r\nInjected: yes", "\r\n\r\nHTTP/1.1 200 OK", "nul\u{0}byte",
        "del\u{7F}x", "é ünï 字", "\u{2028}", "  ", "\r\n", "a\tb", "x\u{1}\u{1F}y"
    ])
    func headerValuesAreLegalisedLikeHTTPField(value: String) {
        var out = allocator.buffer(capacity: 64)
        WireResponse.appendHeaderValue(value, into: &out)
        let expected = HTTPField(name: .init("X-Test")!, value: value).value
        #expect(String(buffer: out) == expected)
        #expect(!String(buffer: out).utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 })
    }

    @Test func randomValuesAreLegalisedLikeHTTPField() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x00, 0x09, 0x0A, 0x0D, 0x20, 0x41, 0x7F, 0xC3, 0xA9, 0x3A, 0x01]
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let value = String(decoding: bytes, as: UTF8.self)
            var out = allocator.buffer(capacity: 32)
            WireResponse.appendHeaderValue(value, into: &out)
            #expect(String(buffer: out) == HTTPField(name: .init("X-Test")!, value: value).value, "\(bytes)")
        }
    }

    @Test func bearerCredentialsAreFoundCaseInsensitively() {
        func parse(_ header: String) -> String? {
            Array(header.utf8).withUnsafeBufferPointer(BearerCredentials.parse).map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(parse("Bearer abc") == "abc")
        #expect(parse("bEaReR   abc  ") == "abc")
        #expect(parse("Bearer    ") == "")
        #expect(parse("Bearer") == nil)
        #expect(parse("Bearer ") == nil)
        #expect(parse("Basic abc") == nil)
        #expect(parse("Bearerx abc") == nil)
        #expect(parse("Bearér abc") == nil)
    }

    @Test func routesAreFoundOnTheTargetBytes() {
        func route(_ target: String, post: Bool = false) -> DataPlane.Route? {
            Array(target.utf8).withUnsafeBufferPointer { DataPlane.route(target: $0, isPost: post) }
        }
        #expect(route("/v1/check") == .check)
        #expect(route("/v1/check/anything") == .check)
        #expect(route("/v1/check?x=1") == .check)
        #expect(route("/v1/check", post: true) == .check)
        #expect(route("/v1/checks") == nil)
        #expect(route("/v1/chec") == nil)
        #expect(route("/v1/revoke", post: true) == .revoke)
        #expect(route("/v1/revoke?x", post: true) == .revoke)
        #expect(route("/v1/revoke") == nil)
        #expect(route("/v1/revoke/x", post: true) == nil)
        #expect(route("/v1/revokes", post: true) == nil)
        #expect(route("http://veto:8080/v1/check?x") == .check)
        #expect(route("https://veto/v1/revoke", post: true) == .revoke)
        #expect(route("http://veto") == nil)
        #expect(route("http://veto?/v1/check") == nil)
        #expect(route("veto/v1/check") == nil)
        #expect(route("*") == nil)
        #expect(route("") == nil)
        #expect(route("/healthz") == nil)
    }

    @Test func headersAreFoundCaseInsensitivelyAndRepeatsJoined() {
        let head = HTTPRequestHead(
            version: .http1_1, method: .GET, uri: "/v1/check",
            headers: [
                "AUTHORIZATION": "Bearer a", "X-Other": "x", "authorization": "Bearer b", "Connection": "Close",
                // Same length but one byte off, or equal only under non-ASCII case folding: other names.
                "X_Other": "no", "x-otheR": "x2", "authorizatioñ": "no", "\u{212A}ey": "no"
            ])
        #expect(DataPlane.header("authorization", in: head) == "Bearer a, Bearer b")
        #expect(DataPlane.header("x-other", in: head) == "x, x2")
        #expect(DataPlane.header("key", in: head) == nil)
        #expect(DataPlane.header("content-type", in: head) == nil)
        #expect(DataPlane.asksToClose(head))
    }
}
