import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import VetoServer

/// JSON requests to a transmitter (metadata, stream management, polls), bounded in time and size.
/// Bearer tokens travel only to https or loopback URLs (checked at start for configured ones, here
/// for ones the transmitter names); redirects are never followed.
struct TransmitterClient: Sendable {
    struct Answer: Sendable {
        let status: HTTPResponseStatus
        let body: [UInt8]
    }

    let client: HTTPClient
    var timeout: Duration = .seconds(10)
    var maxBodyBytes = 4 << 20
    let logger: Logger

    func send(_ method: HTTPMethod, _ url: HTTPURL, bearer: String?, json: String? = nil) async throws(PollError) -> Answer {
        var request = HTTPClientRequest(url: url.text)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "veto")
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        do {
            let response = try await client.execute(request, deadline: deadline, logger: logger)
            let body = try await response.body.collect(upTo: maxBodyBytes)
            return Answer(status: response.status, body: Array(body.readableBytesView))
        } catch is NIOTooManyBytesError {
            throw PollError("\(method) \(url.redacted): the answer is larger than \(maxBodyBytes) bytes")
        } catch {
            throw PollError("\(method) \(url.redacted): \(error)")
        }
    }

    /// `send`, requiring a 2xx status.
    func expectSuccess(_ method: HTTPMethod, _ url: HTTPURL, bearer: String?, json: String? = nil) async throws(PollError) -> [UInt8] {
        let answer = try await send(method, url, bearer: bearer, json: json)
        guard (200..<300).contains(answer.status.code) else {
            throw PollError("\(method) \(url.redacted): the transmitter answered \(answer.status.code) \(answer.status.reasonPhrase)")
        }
        return answer.body
    }

    /// A URL the transmitter named, if bearer tokens may go there: https, or plain http to this machine
    /// only when the document naming it came over plain http too.
    static func trusted(_ text: String?, named member: String, from source: HTTPURL) throws(PollError) -> HTTPURL? {
        guard let text else { return nil }
        guard let url = HTTPURL(text) else { throw PollError("\(source.redacted): \(member) is not an absolute http(s) URL") }
        guard url.isHTTPS || (url.isLoopback && !source.isHTTPS) else {
            throw PollError("\(source.redacted): \(member) \(url.redacted) is plain http; expected https")
        }
        return url
    }
}
