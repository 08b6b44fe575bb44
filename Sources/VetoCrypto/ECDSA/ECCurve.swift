internal import COpenSSL
import VetoCore

/// The NIST curves JWS uses for ECDSA (RFC 7518 §3.4), each tied to exactly one algorithm.
enum ECCurve: Sendable, CaseIterable {
    case p256, p384, p521

    /// The JWK `crv` name.
    var jwkName: String {
        switch self {
        case .p256: "P-256"
        case .p384: "P-384"
        case .p521: "P-521"
        }
    }

    /// The only algorithm a key on this curve may be pinned to.
    var algorithm: JWSAlgorithm {
        switch self {
        case .p256: .es256
        case .p384: .es384
        case .p521: .es512
        }
    }

    /// Bytes of one coordinate, of a private scalar, and of r or s in a JWS signature.
    var coordinateLength: Int {
        switch self {
        case .p256: 32
        case .p384: 48
        case .p521: 66
        }
    }

    init?(jwkName: String) {
        guard let curve = ECCurve.allCases.first(where: { $0.jwkName == jwkName }) else { return nil }
        self = curve
    }

    /// Accepts OpenSSL's group names (`prime256v1`, `secp384r1`, `secp521r1`) and the NIST names.
    init?(openSSLGroupName name: String) {
        switch name {
        case "prime256v1", "P-256", "secp256r1": self = .p256
        case "secp384r1", "P-384": self = .p384
        case "secp521r1", "P-521": self = .p521
        default: return nil
        }
    }

    init?(algorithm: JWSAlgorithm) {
        guard let curve = ECCurve.allCases.first(where: { $0.algorithm == algorithm }) else { return nil }
        self = curve
    }

    /// The group order n, big-endian, `coordinateLength` bytes. Taken from OpenSSL, not typed in.
    var order: [UInt8] {
        switch self {
        case .p256: ECCurve.orders.0
        case .p384: ECCurve.orders.1
        case .p521: ECCurve.orders.2
        }
    }

    private static let orders: ([UInt8], [UInt8], [UInt8]) = (
        loadOrder(nid: NID_X9_62_prime256v1, length: 32),
        loadOrder(nid: NID_secp384r1, length: 48),
        loadOrder(nid: NID_secp521r1, length: 66)
    )

    private static func loadOrder(nid: Int32, length: Int) -> [UInt8] {
        guard let group = EC_GROUP_new_by_curve_name(nid) else {
            fatalError("OpenSSL lacks a NIST curve (nid \(nid)): \(OpenSSLErrorQueue.drain())")
        }
        defer { EC_GROUP_free(group) }
        guard let order = EC_GROUP_get0_order(group), let bytes = BigNumber.bytes(of: order, paddedTo: length) else {
            fatalError("cannot read the order of curve nid \(nid)")
        }
        return bytes
    }
}
