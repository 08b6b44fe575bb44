import Testing
import VetoCore
import VetoCrypto

/// Keys are loaded once and shared: many tasks verify with one key at the same time.
@Suite struct ConcurrencyTests {
    @Test(arguments: [JWSAlgorithm.hs256, .rs256, .ps384, .es256, .es512, .edDSA])
    func oneKeyVerifiesFromManyTasks(algorithm: JWSAlgorithm) async throws {
        let signer = try SigningKey.generate(algorithm: algorithm)
        let key = try signer.verificationKey()
        let inputs = (0..<16).map { Array("eyJhbGciOiJ4In0.\($0)".utf8) }
        let signatures = try inputs.map { try signer.sign($0) }

        let results = await withTaskGroup(of: (Int, Int).self) { group in
            for task in 0..<8 {
                group.addTask {
                    var good = 0, bad = 0
                    for round in 0..<40 {
                        let index = (task + round) % inputs.count
                        if key.verifier.verify(signature: signatures[index], signingInput: inputs[index][...]) { good += 1 }
                        // A signature for another input must fail, even while others verify concurrently.
                        let other = (index + 1) % inputs.count
                        if key.verifier.verify(signature: signatures[other], signingInput: inputs[index][...]) { bad += 1 }
                    }
                    return (good, bad)
                }
            }
            var totals = (0, 0)
            for await result in group { totals = (totals.0 + result.0, totals.1 + result.1) }
            return totals
        }
        #expect(results.0 == 8 * 40)
        #expect(results.1 == 0)
    }
}
