import VetoCore
import VetoCrypto

/// How far a token got: accepted, or the layer that rejected it and why.
enum TokenOutcome: CustomStringConvertible {
    case accepted(VerificationKey)
    case rejected(layer: String, reason: String)

    var isAccepted: Bool {
        if case .accepted = self { return true }
        return false
    }

    var description: String {
        switch self {
        case let .accepted(key): "accepted by \(key.label)"
        case let .rejected(layer, reason): "rejected at \(layer): \(reason)"
        }
    }
}

/// Runs a compact JWS through the whole signature layer: key file load (algorithm pinned from
/// the key), the core's strict compact parser, and the core's key selection and signature check.
enum TokenCheck {
    static func run(token: String, keyFile: [UInt8], algorithm: JWSAlgorithm? = nil, source: String = "test key") -> TokenOutcome {
        let load: KeySetLoad
        do {
            load = try KeyLoader.verificationKeys(from: keyFile, source: source, algorithm: algorithm)
        } catch {
            return .rejected(layer: "key load", reason: error.description)
        }
        return run(token: token, keys: load.keys)
    }

    static func run(token: String, keys: [VerificationKey]) -> TokenOutcome {
        let jws: CompactJWS
        do {
            jws = try CompactJWS.parse(token)
        } catch {
            return .rejected(layer: "parse", reason: error.description)
        }
        switch KeySet(keys).verify(jws) {
        case let .success(key): return .accepted(key)
        case let .failure(failure): return .rejected(layer: "verify", reason: failure.description)
        }
    }

    /// `token` with one character of the given segment (0 header, 1 payload, 2 signature) changed,
    /// keeping valid base64url so the change reaches the signature check.
    static func tamper(_ token: String, segment: Int) -> String {
        var parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var characters = Array(parts[segment])
        let index = characters.count / 2
        characters[index] = characters[index] == "A" ? "B" : "A"
        parts[segment] = String(characters)
        return parts.joined(separator: ".")
    }
}
