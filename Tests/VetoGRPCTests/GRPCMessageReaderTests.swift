import NIOCore
import Testing

@testable import VetoGRPC

/// The 5-byte length-prefixed framing of a unary request, as DATA frames split it.
@Suite struct GRPCMessageReaderTests {
    func framed(_ message: [UInt8], flag: UInt8 = 0, length: Int? = nil) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(flag)
        buffer.writeInteger(UInt32(length ?? message.count))
        buffer.writeBytes(message)
        return buffer
    }

    @Test func aMessageInOneFrameIsReadWithoutItsPrefix() throws {
        var reader = GRPCMessageReader(maxMessageBytes: 64)
        #expect(reader.append(framed([1, 2, 3])) == nil)
        #expect(try reader.finish().get() == ByteBuffer(bytes: [1, 2, 3]))
    }

    @Test(arguments: [1, 2, 4, 5, 6, 7])
    func aMessageSplitAnywhereIsReassembled(cut: Int) throws {
        let whole = framed([9, 8, 7])
        var reader = GRPCMessageReader(maxMessageBytes: 64)
        #expect(reader.append(whole.getSlice(at: 0, length: cut)!) == nil)
        #expect(reader.append(whole.getSlice(at: cut, length: whole.readableBytes - cut)!) == nil)
        #expect(try reader.finish().get() == ByteBuffer(bytes: [9, 8, 7]))
    }

    @Test func anEmptyMessageIsAMessage() throws {
        var reader = GRPCMessageReader(maxMessageBytes: 64)
        #expect(reader.append(framed([])) == nil)
        #expect(try reader.finish().get().readableBytes == 0)
    }

    @Test func theCompressedFlagIsRefusedAsSoonAsItArrives() {
        var reader = GRPCMessageReader(maxMessageBytes: 64)
        #expect(reader.append(framed([1], flag: 1)) == .compressed)
        var other = GRPCMessageReader(maxMessageBytes: 64)
        #expect(other.append(framed([1], flag: 7)) == .badFlag(7))
    }

    @Test func anOversizedMessageIsRefusedFromItsPrefixAlone() {
        var reader = GRPCMessageReader(maxMessageBytes: 64)
        // Only the prefix has arrived: nothing of the 4 GiB announced is waited for or kept.
        #expect(reader.append(framed([], length: Int(UInt32.max))) == .tooLarge(length: Int(UInt32.max), limit: 64))
        #expect(reader.heldBytes == 0)
    }

    @Test func theLimitItselfIsAllowed() throws {
        var reader = GRPCMessageReader(maxMessageBytes: 4)
        #expect(reader.append(framed([1, 2, 3, 4])) == nil)
        #expect(try reader.finish().get().readableBytes == 4)
    }

    @Test func aSecondMessageIsRefused() {
        var reader = GRPCMessageReader(maxMessageBytes: 64)
        var two = framed([1])
        var second = framed([2])
        two.writeBuffer(&second)
        #expect(reader.append(two) == .extraData)
    }

    @Test func aStreamEndingInsideThePrefixOrTheMessageIsTruncated() {
        var prefix = GRPCMessageReader(maxMessageBytes: 64)
        #expect(prefix.append(ByteBuffer(bytes: [0, 0, 0])) == nil)
        #expect(prefix.finish() == .failure(.truncated))
        var message = GRPCMessageReader(maxMessageBytes: 64)
        #expect(message.append(framed([1, 2], length: 5)) == nil)
        #expect(message.finish() == .failure(.truncated))
    }

    @Test func noBytesAtAllIsNoMessage() {
        var reader = GRPCMessageReader(maxMessageBytes: 64)
        #expect(reader.append(ByteBuffer()) == nil)
        #expect(reader.finish() == .failure(.missing))
    }
}
