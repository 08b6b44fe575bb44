import Glibc

/// Reads a journal file through a window of `Journal.windowSize` bytes (or one record, if larger), so
/// that a scan needs memory for one window, not for the whole journal. It never writes.
struct JournalFileReader {
    let descriptor: Int32
    let path: String
    let fileSize: Int
    private var window: [UInt8] = []
    private var windowStart = 0

    init(descriptor: Int32, path: String) throws(StoreError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Journal.ioError("cannot stat \(path)") }
        self.descriptor = descriptor
        self.path = path
        self.fileSize = Int(info.st_size)
    }

    /// Makes `offset..<offset+count` readable from the window (the caller checked it is inside the file).
    private mutating func load(_ offset: Int, _ count: Int) throws(StoreError) {
        if offset >= windowStart && offset + count <= windowStart + window.count { return }
        let length = min(max(Journal.windowSize, count), fileSize - offset)
        var bytes = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let read = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + done, length - done, off_t(offset + done))
            }
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else {
                if read == 0 { errno = EIO }  // the file shrank under us
                throw Journal.ioError("cannot read \(path)")
            }
            done += read
        }
        window = bytes
        windowStart = offset
    }

    mutating func withBytes<T>(at offset: Int, count: Int, _ body: (ArraySlice<UInt8>) -> T) throws(StoreError) -> T {
        try load(offset, count)
        return body(window[(offset - windowStart)..<(offset - windowStart + count)])
    }

    mutating func bytes(at offset: Int, count: Int) throws(StoreError) -> [UInt8] {
        guard count > 0 else { return [] }
        return try withBytes(at: offset, count: count) { Array($0) }
    }

    mutating func uInt32(at offset: Int) throws(StoreError) -> UInt32 {
        try withBytes(at: offset, count: 4) { bytes in
            bytes.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << UInt32(8 * $1.offset) }
        }
    }

    /// Where the run of zero bytes that ends the file begins: `fileSize` when the last byte is not zero.
    mutating func zeroSuffixStart() throws(StoreError) -> Int {
        var end = fileSize
        while end > 0 {
            let start = max(0, end - Journal.windowSize)
            let lastNonZero = try withBytes(at: start, count: end - start) { bytes in
                bytes.lastIndex { $0 != 0 }.map { $0 - bytes.startIndex }
            }
            if let lastNonZero { return start + lastNonZero + 1 }
            end = start
        }
        return 0
    }
}
