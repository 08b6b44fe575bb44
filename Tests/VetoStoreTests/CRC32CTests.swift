import Testing

@testable import VetoStore

/// The journal's checksum: the standard check value, and slicing-by-8 against the bitwise definition.
@Suite struct CRC32CTests {
    static func bitwise(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    @Test func checkValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func matchesTheDefinitionForEveryLengthAndOffset() {
        var generator = SystemRandomNumberGenerator()
        let data = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for length in 0..<70 {
            for start in [0, 1, 3, 7] {
                let slice = data[start..<(start + length)]
                #expect(CRC32C.checksum(slice) == Self.bitwise(Array(slice)), "length \(length) at \(start)")
            }
        }
        #expect(CRC32C.checksum(data) == Self.bitwise(data))
    }
}
