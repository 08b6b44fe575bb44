import VetoCore
import VetoCrypto

/// The PEM loader (OpenSSL's PEM reader, then DER parsing per label), for verification and for
/// signing keys. Inputs are wrapped in a PEM armour with a label chosen by the first byte, so the
/// fuzzer spends its time inside the base64 body and the DER, not on finding "-----BEGIN ".
enum PEMHarness {
    static let labels = [
        "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE", "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY", "X509 CRL"
    ]
    static let algorithms: [JWSAlgorithm?] = [nil, .rs256, .ps256, .es256, .es384, .es512, .edDSA]

    static func run(_ bytes: [UInt8]) {
        guard bytes.count >= 2 else { return }
        let label = labels[Int(bytes[0]) % labels.count]
        let algorithm = algorithms[Int(bytes[1]) % algorithms.count]
        let body = Array(bytes.dropFirst(2))
        let file: [UInt8]
        if bytes[0] & 0x80 != 0 {
            file = body  // raw: the whole file is fuzzed, armour included
        } else {
            // Standard base64 (RFC 7468), from the base64url encoder.
            let encoded = String(
                decoding: Base64URL.encodeBytes(body).map {
                    $0 == UInt8(ascii: "-") ? UInt8(ascii: "+") : $0 == UInt8(ascii: "_") ? UInt8(ascii: "/") : $0
                }, as: UTF8.self)
            var lines = ""
            var rest = Substring(encoded)
            while !rest.isEmpty {
                lines += rest.prefix(64) + "\n"
                rest = rest.dropFirst(64)
            }
            let padding = String(repeating: "=", count: (4 - encoded.count % 4) % 4)
            file = Array("-----BEGIN \(label)-----\n\(lines.dropLast())\(padding)\n-----END \(label)-----\n".utf8)
        }
        if let load = try? KeyLoader.verificationKeys(from: file, source: "fuzz", algorithm: algorithm) {
            for key in load.keys where key.algorithm.family == .hmac { violated("a PEM file became an HMAC key: \(key)") }
        }
        _ = try? SigningKey.load(from: file, source: "fuzz", algorithm: algorithm)
    }
}
