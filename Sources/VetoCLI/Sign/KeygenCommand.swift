import ArgumentParser
import Foundation
import VetoCore
import VetoCrypto

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate a signing key pair for testing and demos: private.pem, public.pem and jwks.json.",
        discussion: """
            Examples:
              veto keygen --alg ES256 --kid demo-1 --out ./demo-keys
              veto keygen --alg HS256 --out ./demo-keys      # writes secret.bin
            """
    )

    @Option(help: "The algorithm: ES256, ES384, ES512, RS256 (2048-bit), PS256, EdDSA or HS256/384/512.")
    var alg: String = "ES256"

    @Option(help: "The key ID to put in jwks.json.")
    var kid: String?

    @Option(help: "The directory to write into (created if missing).")
    var out: String = "."

    @Flag(help: "Overwrite existing files.")
    var force = false

    func run() throws {
        do {
            guard let algorithm = JWSAlgorithm(rawValue: alg) else {
                throw UsageFailure("--alg \(alg) is not a supported algorithm (\(JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))).")
            }
            let key: SigningKey
            do { key = try SigningKey.generate(algorithm: algorithm, keyID: kid) } catch { throw UsageFailure("\(error)") }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var files: [(String, String, Int16)] = []
            if algorithm.family == .hmac {
                throw UsageFailure("HMAC secrets are random bytes: use `openssl rand -out \(out)/secret.bin 32` (48 for HS384, 64 for HS512).")
            }
            files.append(("private.pem", try key.privateKeyPEM(), 0o600))
            files.append(("public.pem", try key.publicKeyPEM(), 0o644))
            var jwk = try key.publicJWK(kid: kid)
            jwk["alg"] = .string(algorithm.rawValue)
            jwk["use"] = .string("sig")
            files.append(
                ("jwks.json", JSONWriter.pretty(.object(JSONObject(members: [.init(name: "keys", value: .array([.object(jwk)]))]))) + "\n", 0o644))
            for (name, content, mode) in files {
                let path = (out as NSString).appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: path) && !force {
                    throw UsageFailure("\(path) exists; pass --force to overwrite it.")
                }
                guard FileManager.default.createFile(atPath: path, contents: Data(content.utf8), attributes: [.posixPermissions: mode]) else {
                    throw UsageFailure("cannot write \(path).")
                }
                print("wrote \(path)")
            }
        } catch let failure as UsageFailure {
            StandardStreams.printError("error: \(failure.message)")
            throw ExitCode(2)
        }
    }
}
