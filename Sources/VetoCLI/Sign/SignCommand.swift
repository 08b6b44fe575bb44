import ArgumentParser
import Foundation
import VetoCore
import VetoCrypto

struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Mint a signed JWT for local testing and demos (not an identity provider).",
        discussion: """
            A testing tool, like jwt-cli's encode or step's crypto jwt sign: it signs whatever
            claims you give it. Times take unix seconds, ISO-8601 or offsets from now (+15m, -1h,
            +2d). A jti is generated unless you give one or pass --no-jti.

            Examples:
              veto sign --key private.pem --iss https://auth.example.com --aud https://api.example.com --sub user_1
              veto sign --key HS256:secret.bin --sub alice --exp +1h --claim role=admin --claim 'scopes=["read","write"]'
              veto sign --key ES256:ec.pem --claims '{"sub":"bob","tenant":"acme"}' --exp -5m   # already expired
            """
    )

    @Option(
        name: .customLong("key"),
        help: ArgumentHelp("The private key: [ALG:]FILE (PEM, private JWK, or an HMAC secret file).", valueName: "[ALG:]FILE"))
    var key: String

    @Option(help: "The algorithm, where the key does not decide it (RSA keys, HMAC secrets).")
    var alg: String?

    @Option(help: "The kid header.")
    var kid: String?

    @Option(help: "The typ header.")
    var typ: String = "JWT"

    @Option(help: "iss claim.")
    var iss: String?

    @Option(help: "sub claim.")
    var sub: String?

    @Option(help: "aud claim. Repeatable (several make an array).")
    var aud: [String] = []

    @Option(help: "exp: unix seconds, ISO-8601 or an offset from now like +15m.")
    var exp: String = "+15m"

    @Flag(help: "Leave out exp.")
    var noExp = false

    @Option(help: "nbf: unix seconds, ISO-8601 or an offset from now.")
    var nbf: String?

    @Option(help: "iat: unix seconds, ISO-8601 or an offset (default: now).")
    var iat: String?

    @Option(help: "jti claim (default: a random one).")
    var jti: String?

    @Flag(help: "Leave out jti.")
    var noJti = false

    @Option(
        name: .customLong("claim"),
        help: ArgumentHelp("Another claim, NAME=VALUE; VALUE is read as JSON when it is JSON, else as a string. Repeatable.", valueName: "NAME=VALUE")
    )
    var extraClaims: [String] = []

    @Option(help: ArgumentHelp("Claims as a JSON object, or @FILE.", valueName: "JSON"))
    var claims: String?

    func run() throws {
        do {
            let token = try mint(now: Date().timeIntervalSince1970.rounded(.down))
            print(token)
        } catch let failure as UsageFailure {
            StandardStreams.printError("error: \(failure.message)")
            throw ExitCode(2)
        }
    }

    func mint(now: Double) throws -> String {
        var (algorithm, path) = try KeyFiles.split(key)
        if let alg {
            guard let named = JWSAlgorithm(rawValue: alg) else {
                throw UsageFailure("--alg \(alg) is not a supported algorithm (\(JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))).")
            }
            if let algorithm, algorithm != named { throw UsageFailure("--alg \(alg) disagrees with the key prefix \(algorithm).") }
            algorithm = named
        }
        let signingKey: SigningKey
        do {
            signingKey = try SigningKey.load(from: try KeyFiles.read(path, option: "--key"), source: path, algorithm: algorithm)
        } catch let error as KeyLoadingError {
            throw UsageFailure("cannot sign with \(error)")
        }

        var body = JSONObject()
        if let claims {
            let text =
                claims.hasPrefix("@") ? String(decoding: try KeyFiles.read(String(claims.dropFirst()), option: "--claims"), as: UTF8.self) : claims
            do {
                body = try JSONReader().parseObject(Array(text.utf8))
            } catch {
                throw UsageFailure("--claims is not a JSON object: \(error).")
            }
        }
        if let iss { body["iss"] = .string(iss) }
        if let sub { body["sub"] = .string(sub) }
        if aud.count == 1 { body["aud"] = .string(aud[0]) } else if aud.count > 1 { body["aud"] = .array(aud.map(JSONValue.string)) }
        body["iat"] = Self.date(try iat.map { try TimeArgument.parse($0, option: "--iat", now: now) } ?? now)
        if let nbf { body["nbf"] = Self.date(try TimeArgument.parse(nbf, option: "--nbf", now: now)) }
        if !noExp, body["exp"] == nil || exp != "+15m" { body["exp"] = Self.date(try TimeArgument.parse(exp, option: "--exp", now: now)) }
        if let jti {
            body["jti"] = .string(jti)
        } else if !noJti, body["jti"] == nil {
            body["jti"] = .string(Base64URL.encode(SecureRandom.bytes(16)))
        }
        for claim in extraClaims {
            guard let equals = claim.firstIndex(of: "="), equals != claim.startIndex else {
                throw UsageFailure("--claim \(claim): write NAME=VALUE.")
            }
            let name = String(claim[..<equals])
            let raw = String(claim[claim.index(after: equals)...])
            body[name] = (try? JSONReader().parse(Array(raw.utf8))) ?? .string(raw)
        }

        var header = JSONObject()
        header["alg"] = .string(signingKey.algorithm.rawValue)
        header["typ"] = .string(typ)
        if let keyID = kid ?? signingKey.keyID { header["kid"] = .string(keyID) }
        let signingInput =
            Base64URL.encode(Array(JSONWriter.compact(.object(header)).utf8)) + "." + Base64URL.encode(Array(JSONWriter.compact(.object(body)).utf8))
        let signature: [UInt8]
        do {
            signature = try signingKey.sign(Array(signingInput.utf8))
        } catch {
            throw UsageFailure("signing failed: \(error)")
        }
        return signingInput + "." + Base64URL.encode(signature)
    }

    static func date(_ seconds: Double) -> JSONValue {
        .number(JSONNumber(Int64(seconds.rounded(.down))))
    }
}

/// Times on the command line: unix seconds, ISO-8601, or an offset from now (+15m, -1h30m, +2d).
enum TimeArgument {
    static func parse(_ text: String, option: String, now: Double) throws -> Double {
        if let first = text.first, first == "+" || first == "-", let offset = offset(String(text.dropFirst())) {
            return first == "+" ? now + offset : now - offset
        }
        if let offset = offset(text), text.last?.isLetter == true { return now + offset }
        guard let value = UTCTime.parse(text) else {
            throw UsageFailure("\(option) \"\(text)\" is not a time: give unix seconds, ISO-8601, or an offset like +15m, -1h, +2d.")
        }
        return value
    }

    /// "1h30m" → 5400. Units: s, m, h, d, w.
    static func offset(_ text: String) -> Double? {
        var total = 0.0
        var digits = ""
        var sawUnit = false
        for character in text {
            if character.isNumber || character == "." {
                digits.append(character)
                continue
            }
            guard let value = Double(digits) else { return nil }
            let unit: Double
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            case "w": unit = 604_800
            default: return nil
            }
            total += value * unit
            digits = ""
            sawUnit = true
        }
        if !digits.isEmpty { return sawUnit ? nil : Double(digits) }
        return sawUnit ? total : nil
    }
}
