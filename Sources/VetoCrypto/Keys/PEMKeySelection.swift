/// Picks the one key a PEM file holds.
enum PEMKeySelection {
    /// The file must hold exactly one key. In a certificate chain only the first (leaf)
    /// certificate counts: CA keys further up must never verify tokens. Other blocks
    /// (EC PARAMETERS, …) are ignored.
    static func single(from blocks: [PEMBlock], source: String, purpose: KeyPurpose) throws(KeyLoadingError) -> EVPKey {
        var keyBlocks: [PEMBlock] = []
        var sawCertificate = false
        for block in blocks {
            if block.label == "CERTIFICATE" {
                if sawCertificate { continue }
                sawCertificate = true
            }
            if PEMBlock.publicLabels.contains(block.label) || PEMBlock.privateLabels.contains(block.label)
                || block.label == "ENCRYPTED PRIVATE KEY"
            {
                keyBlocks.append(block)
            }
        }
        guard let block = keyBlocks.first else {
            let labels = blocks.map(\.label).joined(separator: ", ")
            throw KeyLoadingError(
                .unrecognizedFormat, source: source,
                "the PEM file holds no key (blocks: \(labels)); expected PUBLIC KEY, CERTIFICATE or a private key")
        }
        guard keyBlocks.count == 1 else {
            let labels = keyBlocks.map(\.label).joined(separator: ", ")
            throw KeyLoadingError(
                .ambiguousKeySet, source: source,
                "the PEM file holds \(keyBlocks.count) keys (\(labels)); put one key in each file")
        }
        if purpose == .signing, !PEMBlock.privateLabels.contains(block.label), block.label != "ENCRYPTED PRIVATE KEY" {
            throw KeyLoadingError(.notAPrivateKey, source: source, "the PEM file holds a \(block.label), which cannot sign; give a private key")
        }
        return try block.key(source: source)
    }
}
