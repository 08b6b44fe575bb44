import NIOCore
import NIOSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The TLS side of a client: one `NIOSSLContext` (certificates parsed once), a handler per channel,
/// and failures turned into sentences that say what is wrong with the server's certificate.
///
/// TLS is one more handler in front of the RESP handler in the channel pipeline: the protocol code
/// sees plain bytes either way.
struct RedisTLSContext: Sendable {
    let settings: RedisConfiguration.TLS
    let context: NIOSSLContext

    init(_ settings: RedisConfiguration.TLS) throws(RedisError) {
        self.settings = settings
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        if let caFile = settings.caFile {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMFile(caFile)
            } catch {
                throw RedisError(.invalidConfiguration, "cannot read the Redis CA file \(caFile): \(Self.fileProblem(caFile, error))")
            }
            guard !roots.isEmpty else { throw RedisError(.invalidConfiguration, "the Redis CA file \(caFile) holds no PEM certificate") }
            tls.trustRoots = .certificates(roots)
        }
        switch (settings.certificateFile, settings.keyFile) {
        case (nil, nil):
            break
        case (let certificateFile?, let keyFile?):
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
                guard !chain.isEmpty else {
                    throw RedisError(.invalidConfiguration, "the Redis client certificate file \(certificateFile) holds no PEM certificate")
                }
                tls.certificateChain = chain.map { .certificate($0) }
            } catch let error as RedisError {
                throw error
            } catch {
                throw RedisError(
                    .invalidConfiguration, "cannot read the Redis client certificate \(certificateFile): \(Self.fileProblem(certificateFile, error))")
            }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            } catch {
                throw RedisError(.invalidConfiguration, "cannot read the Redis client key \(keyFile): \(Self.fileProblem(keyFile, error))")
            }
        case (_?, nil):
            throw RedisError(.invalidConfiguration, "a Redis client certificate needs its key: give --redis-key with --redis-cert")
        case (nil, _?):
            throw RedisError(.invalidConfiguration, "a Redis client key needs its certificate: give --redis-cert with --redis-key")
        }
        do {
            self.context = try NIOSSLContext(configuration: tls)
        } catch {
            // Most often a key that does not belong to the certificate.
            throw RedisError(.invalidConfiguration, "cannot set up TLS for Redis: \(error) (does --redis-key belong to --redis-cert?)")
        }
    }

    /// The client handler for one connection to `host`. An IP address is not sent as SNI; the
    /// certificate must then carry it as an IP address entry.
    func makeHandler(host: String) throws -> NIOSSLClientHandler {
        let name = settings.serverName ?? host
        return try NIOSSLClientHandler(context: context, serverHostname: Self.isIPAddress(name) ? nil : name)
    }

    /// "TLS handshake with Redis at 127.0.0.1:6390 failed: unknown CA: …". `peer` is the server's
    /// certificate when the handshake got that far.
    func describe(_ error: any Error, endpoint: RedisConfiguration.Endpoint, peer: NIOSSLCertificate?) -> RedisError {
        let prefix = "TLS handshake with Redis at \(endpoint) failed"
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            let expected = settings.serverName ?? Self.host(of: endpoint)
            return RedisError(
                .unavailable,
                "\(prefix): name mismatch: the server's certificate is not valid for '\(expected)' (set the name it carries with --redis-tls-server-name, or fix the certificate)"
            )
        }
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            let now = time(nil)
            if let peer, peer.notValidAfter < now {
                return RedisError(.unavailable, "\(prefix): certificate expired: the server's certificate expired at \(Self.utc(peer.notValidAfter))")
            }
            if let peer, peer.notValidBefore > now {
                return RedisError(
                    .unavailable, "\(prefix): certificate not yet valid: the server's certificate is valid from \(Self.utc(peer.notValidBefore))")
            }
            let trusted = settings.caFile.map { "a CA in \($0)" } ?? "a CA the system trusts (give --redis-ca FILE)"
            return RedisError(.unavailable, "\(prefix): unknown CA: the server's certificate is not signed by \(trusted)")
        }
        if text.contains("CERTIFICATE_REQUIRED") {
            return RedisError(.unavailable, "\(prefix): the server requires a client certificate: give --redis-cert and --redis-key")
        }
        if settings.certificateFile == nil && text.contains("HANDSHAKE_FAILURE") {
            return RedisError(
                .unavailable,
                "\(prefix): the server ended the handshake; if it requires a client certificate, give --redis-cert and --redis-key (\(text))")
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("eofDuringHandshake") || text.contains("EOF during handshake") {
            return RedisError(.unavailable, "\(prefix): the server did not speak TLS (is it a plain redis:// port?)")
        }
        if text.contains("BAD_CERTIFICATE") || text.contains("UNKNOWN_CA") || text.contains("CERTIFICATE_UNKNOWN") {
            return RedisError(.unavailable, "\(prefix): the server refused our client certificate (\(text))")
        }
        return RedisError(.unavailable, "\(prefix): \(text)")
    }

    private static func host(of endpoint: RedisConfiguration.Endpoint) -> String {
        switch endpoint {
        case .tcp(let host, _): host
        case .unix(let path): path
        }
    }

    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return text.withCString { inet_pton(AF_INET, $0, &v4) == 1 || inet_pton(AF_INET6, $0, &v6) == 1 }
    }

    private static func utc(_ time: time_t) -> String {
        var value = time
        var parts = tm()
        gmtime_r(&value, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func fileProblem(_ path: String, _ error: any Error) -> String {
        access(path, R_OK) == 0 ? "not a PEM file (\(error))" : "cannot open the file"
    }
}
