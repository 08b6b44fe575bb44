internal import COpenSSL

/// One `-----BEGIN LABEL-----` block of a PEM file (RFC 7468), decoded to DER.
struct PEMBlock {
    let label: String
    let der: [UInt8]

    /// Every block in `bytes`, in order, read with OpenSSL's PEM parser.
    static func all(in bytes: [UInt8], source: String) throws(KeyLoadingError) -> [PEMBlock] {
        let bio = bytes.withUnsafeBytes { BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }
        guard let bio else { throw KeyLoadingError.openSSL(.cryptoFailure, source: source, "BIO_new_mem_buf") }
        // The memory BIO borrows `bytes`; keep them alive until the BIO is gone.
        defer { withExtendedLifetime(bytes) { _ = BIO_free(bio) } }
        OpenSSLErrorQueue.clear()
        var blocks: [PEMBlock] = []
        while true {
            var name: UnsafeMutablePointer<CChar>? = nil
            var header: UnsafeMutablePointer<CChar>? = nil
            var data: UnsafeMutablePointer<UInt8>? = nil
            var length = 0
            guard PEM_read_bio(bio, &name, &header, &data, &length) == 1 else {
                // "No start line" after at least one block just means the end of the file.
                if veto_openssl_last_error_is_pem_no_start_line() == 1, !blocks.isEmpty {
                    OpenSSLErrorQueue.clear()
                    return blocks
                }
                throw KeyLoadingError.openSSL(.malformedKey, source: source, "the PEM text cannot be read")
            }
            defer {
                veto_openssl_free(name)
                veto_openssl_free(header)
                veto_openssl_free(data)
            }
            let label = name.map { String(cString: $0) } ?? ""
            let headers = header.map { String(cString: $0) } ?? ""
            if !headers.isEmpty {
                // RFC 1421 headers ("Proc-Type: 4,ENCRYPTED") mean legacy encrypted PEM.
                throw KeyLoadingError(
                    .unsupportedKey, source: source,
                    "the \(label) block is encrypted; decrypt it first (openssl pkey -in FILE -out PLAIN.pem)")
            }
            let der = data.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []
            blocks.append(PEMBlock(label: label, der: der))
        }
    }
}
