import NIOCore

/// Protocol Buffers wire format written straight into memory: the answers are small and their shape
/// fixed, so a writer measures a message first (the static `…Size` functions), reserves exactly that
/// many bytes, and writes nested lengths before their payloads without a second buffer. Every field
/// number Veto writes is below 16, so every tag is one byte.
struct ProtobufWriter {
    private let base: UnsafeMutableRawPointer
    private let capacity: Int
    private(set) var position = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) {
        base = buffer.baseAddress!
        capacity = buffer.count
    }

    static func varintSize(_ value: Int) -> Int {
        var value = UInt64(truncatingIfNeeded: value)
        var size = 1
        while value >= 0x80 {
            value >>= 7
            size += 1
        }
        return size
    }

    /// The size of a length-delimited field (tag, length, payload) with a payload of `length` bytes.
    static func fieldSize(payload length: Int) -> Int {
        1 + varintSize(length) + length
    }

    static func varintFieldSize(_ value: Int) -> Int {
        1 + varintSize(value)
    }

    mutating func byte(_ byte: UInt8) {
        precondition(position < capacity, "a protobuf answer outgrew the size measured for it")
        base.storeBytes(of: byte, toByteOffset: position, as: UInt8.self)
        position += 1
    }

    mutating func varint(_ value: Int) {
        var value = UInt64(truncatingIfNeeded: value)
        while value >= 0x80 {
            byte(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        byte(UInt8(value))
    }

    mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        precondition(position + bytes.count <= capacity, "a protobuf answer outgrew the size measured for it")
        (base + position).copyMemory(from: source, byteCount: bytes.count)
        position += bytes.count
    }

    /// The same bytes with ASCII letters lower-cased (header names for `headers_to_remove`).
    mutating func lowercased(_ bytes: UnsafeRawBufferPointer) {
        for value in bytes { byte(value >= 0x41 && value <= 0x5A ? value | 0x20 : value) }
    }

    /// The tag and length of a length-delimited field whose payload follows.
    mutating func field(_ number: Int, length: Int) {
        byte(UInt8(number << 3 | 2))
        varint(length)
    }

    mutating func field(_ number: Int, bytes payload: UnsafeRawBufferPointer) {
        field(number, length: payload.count)
        bytes(payload)
    }

    mutating func field(_ number: Int, _ text: StaticString) {
        field(number, bytes: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func field(_ number: Int, string: String) {
        var string = string
        string.withUTF8 { field(number, bytes: UnsafeRawBufferPointer($0)) }
    }

    mutating func varintField(_ number: Int, _ value: Int) {
        byte(UInt8(number << 3))
        varint(value)
    }

    mutating func doubleField(_ number: Int, _ value: Double) {
        byte(UInt8(number << 3 | 1))
        var bits = value.bitPattern.littleEndian
        withUnsafeBytes(of: &bits) { bytes($0) }
    }

    /// The 5-byte gRPC message prefix: not compressed, `length` bytes follow.
    mutating func grpcPrefix(length: Int) {
        byte(0)
        var length = UInt32(length).bigEndian
        withUnsafeBytes(of: &length) { bytes($0) }
    }
}

extension ByteBuffer {
    /// Writes a message of exactly `size` bytes (with its gRPC prefix when `framed`) through a `ProtobufWriter`.
    mutating func writeProtobuf(size: Int, framed: Bool, _ body: (inout ProtobufWriter) -> Void) {
        let total = size + (framed ? 5 : 0)
        writeWithUnsafeMutableBytes(minimumWritableBytes: total) { memory in
            var writer = ProtobufWriter(UnsafeMutableRawBufferPointer(rebasing: memory[..<total]))
            if framed { writer.grpcPrefix(length: size) }
            body(&writer)
            precondition(writer.position == total, "a protobuf answer is not the size measured for it")
            return total
        }
    }
}
