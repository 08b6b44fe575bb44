import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import VetoCore

/// Downloads one issuer's JWKS document, following discovery when configured. Parsing keys is
/// not its job; it only guarantees a 200 response of bounded size within the time limit.
struct JWKSFetcher: Sendable {
    /// A downloaded JWKS document.
    struct Document: Sendable {
        let body: [UInt8]
        /// The JWKS URL it came from; with discovery, the `jwks_uri` to reuse next time.
        let url: HTTPURL
        /// From `Cache-Control`; nil when the response gives none.
        let maxAge: Duration?
    }

    let client: HTTPClient
    let issuer: String
    let location: JWKSLocation
    let timeout: Duration
    let maxDocumentSize: Int
    /// Plain http to a non-loopback host allowed (`allow_insecure_jwks`), for the discovered `jwks_uri` too.
    var allowInsecure = false

    /// Fetches the JWKS. With discovery, `knownJWKSURL` (the `jwks_uri` of the last good fetch)
    /// skips the discovery request; pass nil to read the discovery document again.
    func fetch(knownJWKSURL: HTTPURL?, logger: Logger) async throws(JWKSFetchError) -> Document {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let outcome = await withTaskGroup(of: Result<Document, JWKSFetchError>.self) { group in
            group.addTask {
                do throws(JWKSFetchError) {
                    return .success(try await self.download(knownJWKSURL: knownJWKSURL, deadline: deadline, logger: logger))
                } catch {
                    return .failure(error)
                }
            }
            // AHC's deadline covers the response head only, not the body, so the whole fetch
            // races a timer; the loser is cancelled, and AHC's body stream honours cancellation.
            group.addTask {
                try? await Task.sleep(for: timeout)
                let url = knownJWKSURL?.redacted ?? location.url.redacted
                return Task.isCancelled
                    ? .failure(JWKSFetchError(.transport, url: url, "the fetch was cancelled"))
                    : .failure(JWKSFetchError(.timeout, url: url, "no complete answer within \(timeout)"))
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
        return try outcome.get()
    }

    private func download(knownJWKSURL: HTTPURL?, deadline: NIODeadline, logger: Logger) async throws(JWKSFetchError) -> Document {
        let jwksURL: HTTPURL
        switch location {
        case let .jwks(url):
            jwksURL = url
        case let .discovery(discoveryURL):
            if let knownJWKSURL {
                jwksURL = knownJWKSURL
            } else {
                let (body, _) = try await get(discoveryURL, accept: "application/json", deadline: deadline, logger: logger)
                jwksURL = try DiscoveryDocument.jwksURL(from: body, issuer: issuer, discoveryURL: discoveryURL, allowInsecure: allowInsecure)
            }
        }
        let (body, headers) = try await get(jwksURL, accept: "application/jwk-set+json, application/json", deadline: deadline, logger: logger)
        return Document(body: body, url: jwksURL, maxAge: CacheControl.maxAge(headers["Cache-Control"]))
    }

    private func get(_ url: HTTPURL, accept: String, deadline: NIODeadline, logger: Logger) async throws(JWKSFetchError) -> ([UInt8], HTTPHeaders) {
        var request = HTTPClientRequest(url: url.text)
        request.method = .GET
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: "veto")
        do {
            let response = try await client.execute(request, deadline: deadline, logger: logger)
            guard response.status == .ok else {
                throw JWKSFetchError(
                    .httpStatus, url: url.redacted, "the server answered \(response.status.code) \(response.status.reasonPhrase); expected 200")
            }
            let buffer = try await response.body.collect(upTo: maxDocumentSize)
            return (Array(buffer.readableBytesView), response.headers)
        } catch let error as JWKSFetchError {
            throw error
        } catch is NIOTooManyBytesError {
            throw JWKSFetchError(.documentTooLarge, url: url.redacted, "the document is larger than the limit of \(maxDocumentSize) bytes")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw JWKSFetchError(.timeout, url: url.redacted, "no complete answer in time (\(error))")
        } catch {
            throw JWKSFetchError(.transport, url: url.redacted, "the request failed: \(error)")
        }
    }
}
