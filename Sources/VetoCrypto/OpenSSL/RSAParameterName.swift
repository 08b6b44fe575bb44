internal import COpenSSL

/// Names of the RSA CRT parameters for `OSSL_PARAM`, in JWK order p, q, dp, dq, qi (RFC 7518 §6.3.2).
enum RSAParameterName {
    static let crt: [String] = [
        String(cString: veto_openssl_param_rsa_factor1()),
        String(cString: veto_openssl_param_rsa_factor2()),
        String(cString: veto_openssl_param_rsa_exponent1()),
        String(cString: veto_openssl_param_rsa_exponent2()),
        String(cString: veto_openssl_param_rsa_coefficient1())
    ]
    /// The matching JWK member names.
    static let crtJWKMembers = ["p", "q", "dp", "dq", "qi"]
}
