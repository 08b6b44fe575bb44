/// Redis Cluster's hash slot of a key: CRC16 (XMODEM: polynomial 0x1021, initial value 0, no
/// reflection) of the key, or of its hash tag, modulo 16384.
package enum KeySlot {
    package static let count = 16384

    /// The slot of `key`. When the key holds `{…}` with at least one byte between the first `{` and
    /// the first `}` after it, only those bytes are hashed, so `{user}.a` and `{user}.b` share a slot.
    package static func slot(of key: [UInt8]) -> Int {
        let tagged = hashTag(key)
        return Int(crc16(key[tagged]) & 0x3FFF)
    }

    /// The part of `key` that is hashed.
    static func hashTag(_ key: [UInt8]) -> Range<Int> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return 0..<key.count }
        guard let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 else { return 0..<key.count }
        return (open + 1)..<close
    }

    package static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int((crc >> 8) ^ UInt16(byte)) & 0xFF]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
