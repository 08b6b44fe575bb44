extension ServiceConfiguration {
    /// `strict` or `bounded`, from a flag or the config file.
    package static func consistency(_ text: String, field: String) throws(ConfigurationError) -> Consistency {
        guard let value = Consistency(rawValue: text) else { throw ConfigurationError(field, "\"\(text)\" is not strict or bounded") }
        return value
    }

    /// A staleness bound in seconds: more than 0, at most ``maxMaxStaleness``.
    package static func maxStaleness(_ seconds: Double, field: String) throws(ConfigurationError) -> Double {
        guard seconds.isFinite, seconds > 0, seconds <= maxMaxStaleness else {
            throw ConfigurationError(field, "must be more than 0 and at most \(Int(maxMaxStaleness)) seconds")
        }
        return seconds
    }

    /// Bounded consistency replicates a Redis blocklist; the embedded store is already in memory.
    package func checkConsistency() throws(ConfigurationError) {
        if consistency == .bounded && redisURL == nil {
            throw ConfigurationError(
                "consistency", "bounded needs a Redis blocklist (--redis); the embedded store already answers every check from memory")
        }
        if (grpcTLSCertificateFile == nil) != (grpcTLSKeyFile == nil) {
            throw ConfigurationError("grpc.tls_cert_file", "and grpc.tls_key_file (--grpc-tls-cert, --grpc-tls-key) go together")
        }
        if grpcTLSCertificateFile != nil, grpcListen == nil {
            throw ConfigurationError("grpc.tls_cert_file", "needs grpc.listen (--grpc-listen)")
        }
    }
}
