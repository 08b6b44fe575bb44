import Foundation
import SwiftProtobuf
import Testing

@testable import VetoGRPC

/// The hand-written `CheckRequest` reader against SwiftProtobuf decoding the generated messages (what
/// the front door ran before): the same value for every message both read, and a refusal for every
/// message SwiftProtobuf refuses.
@Suite struct CheckRequestReaderTests {
    typealias Request = Envoy_Service_Auth_V3_CheckRequest

    static func request(headers: [String: String] = [:], headerMap: [(key: String, value: String, raw: [UInt8])]? = nil) -> Request {
        var request = Request()
        request.attributes.request.http.method = "GET"
        request.attributes.request.http.path = "/orders/7"
        request.attributes.request.http.headers = headers
        if let headerMap {
            request.attributes.request.http.headerMap.headers = headerMap.map { entry in
                var header = Envoy_Service_Auth_V3_HeaderValue()
                header.key = entry.key
                header.value = entry.value
                header.rawValue = Data(entry.raw)
                return header
            }
        }
        return request
    }

    static func mine(_ bytes: [UInt8]) -> Result<String?, ProtobufReader.Failure> {
        bytes.withUnsafeBytes { raw in Result { () throws(ProtobufReader.Failure) in try CheckRequestReader.authorization(in: raw) } }
    }

    static func reference(_ bytes: [UInt8]) -> String?? {
        guard let request = try? Request(serializedBytes: bytes) else { return nil }
        return .some(ReferenceAuthorization.authorization(of: request.attributes.request.http))
    }

    /// Both read it the same, or both refuse it.
    static func expectSame(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        switch (mine(bytes), reference(bytes)) {
        case let (.success(value), .some(expected)):
            // Several Authorization keys in the map: SwiftProtobuf's dictionary has no order, so the
            // joined values may come in another (both refuse two credentials alike).
            let parts = { (value: String?) in value?.components(separatedBy: ", ").sorted() }
            #expect(parts(value) == parts(expected), "bytes \(bytes)", sourceLocation: sourceLocation)
        case (.failure, .none):
            break
        case let (mine, reference):
            Issue.record("reader \(mine), SwiftProtobuf \(String(describing: reference)) for \(bytes)", sourceLocation: sourceLocation)
        }
    }

    @Test func theHeadersMapIsReadCaseInsensitively() throws {
        for name in ["authorization", "Authorization", "AUTHORIZATION"] {
            let bytes: [UInt8] = try Self.request(headers: [name: "Bearer abc", "x-other": "1"]).serializedBytes()
            #expect(try Self.mine(bytes).get() == "Bearer abc")
        }
    }

    @Test func twoSpellingsInTheMapAreBothKept() throws {
        let bytes: [UInt8] = try Self.request(headers: ["authorization": "Bearer a", "Authorization": "Bearer b"]).serializedBytes()
        let value = try Self.mine(bytes).get()
        #expect(value == "Bearer a, Bearer b" || value == "Bearer b, Bearer a")
    }

    @Test func theHeaderMapWinsAndPrefersTheRawValue() throws {
        let bytes: [UInt8] = try Self.request(
            headers: ["authorization": "Bearer from-map"],
            headerMap: [
                ("x-request-id", "", Array("1".utf8)), ("AUTHORIZATION", "ignored", Array("Bearer raw".utf8)), ("authorization", "Bearer value", [])
            ]
        ).serializedBytes()
        #expect(try Self.mine(bytes).get() == "Bearer raw, Bearer value")
        Self.expectSame(bytes)
    }

    @Test func anEmptyHeaderMapStillWins() throws {
        let bytes: [UInt8] = try Self.request(headers: ["authorization": "Bearer from-map"], headerMap: []).serializedBytes()
        #expect(try Self.mine(bytes).get() == nil)
        Self.expectSame(bytes)
    }

    @Test func noHeadersIsNoValue() throws {
        #expect(try Self.mine([]).get() == nil)
        #expect(try Self.mine(try Self.request().serializedBytes()).get() == nil)
    }

    @Test func aRepeatedMapKeyKeepsItsLastValue() throws {
        func entry(_ key: String, _ value: String) -> [UInt8] {
            let inner = field(1, Array(key.utf8)) + field(2, Array(value.utf8))
            return field(3, inner)
        }
        let http = entry("authorization", "Bearer first") + entry("authorization", "Bearer last")
        let bytes = field(1, field(4, field(2, http)))
        #expect(try Self.mine(bytes).get() == "Bearer last")
        Self.expectSame(bytes)
    }

    @Test func messagesRepeatedAtEveryLevelMerge() throws {
        let first = field(1, field(4, field(2, field(3, field(1, Array("authorization".utf8)) + field(2, Array("Bearer a".utf8))))))
        let second = field(1, field(4, field(2, field(3, field(1, Array("Authorization".utf8)) + field(2, Array("Bearer b".utf8))))))
        Self.expectSame(first + second)
        #expect(try Self.mine(first + second).get()?.contains("Bearer a") == true)
    }

    @Test func unknownFieldsOfEveryWireTypeAreSkipped() throws {
        var unknown: [UInt8] = [0x08, 0x96, 0x01]  // field 1 varint
        unknown += [0x11] + [UInt8](repeating: 7, count: 8)  // field 2 fixed64
        unknown += [0x1D, 1, 2, 3, 4]  // field 3 fixed32
        unknown += [0x23, 0x08, 0x01, 0x24]  // field 4 group holding a varint
        unknown += field(99, [1, 2, 3])
        let http = unknown + field(3, field(1, Array("authorization".utf8)) + field(2, Array("Bearer x".utf8)))
        let bytes = unknown + field(1, unknown + field(4, unknown + field(2, http)))
        #expect(try Self.mine(bytes).get() == "Bearer x")
        Self.expectSame(bytes)
    }

    @Test func malformedWireFormatIsRefused() throws {
        let good = field(1, field(4, field(2, field(3, field(1, Array("authorization".utf8)) + field(2, Array("Bearer x".utf8))))))
        for bytes in [
            Array(good.dropLast()),  // truncated
            [0x0A, 0xFF],  // length past the end
            [0x00, 0x01],  // field number 0
            [0x0F],  // wire type 7
            [0x0C],  // end of a group never started
            [0x0B, 0x08, 0x01],  // a group never ended
            [0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01]  // an 11-byte varint
        ] as [[UInt8]] {
            #expect(throws: ProtobufReader.Failure.self) { try Self.mine(bytes).get() }
            Self.expectSame(bytes)
        }
    }

    @Test func stringsThatAreNotUTF8AreRefused() throws {
        let badKey = field(1, field(4, field(2, field(3, field(1, [0x61, 0xC3]) + field(2, Array("Bearer x".utf8))))))
        let badPath = field(1, field(4, field(2, field(4, [0xFF]))))
        let badHeaderValue = field(1, field(4, field(2, field(13, field(1, field(1, Array("authorization".utf8)) + field(2, [0xE2, 0x82]))))))
        for bytes in [badKey, badPath, badHeaderValue] {
            #expect(Self.mine(bytes) == .failure(.invalidUTF8))
            Self.expectSame(bytes)
        }
        // raw_value is bytes, not a string: not checked (the token parser refuses what is not a token).
        let rawBytes = field(1, field(4, field(2, field(13, field(1, field(1, Array("authorization".utf8)) + field(3, [0xFF]))))))
        Self.expectSame(rawBytes)
    }

    @Test func aKnownFieldWithAnotherWireTypeIsSkippedAsUnknown() throws {
        let http: [UInt8] = [0x18, 0x01] + [0x68, 0x05] + field(3, field(1, Array("authorization".utf8)) + field(2, Array("Bearer y".utf8)))
        let bytes = field(1, field(4, field(2, http)))
        #expect(try Self.mine(bytes).get() == "Bearer y")
        Self.expectSame(bytes)
    }

    /// Random requests, then random damage to them: the reader and SwiftProtobuf agree on every one.
    @Test func randomRequestsAndTheirMutationsAgreeWithSwiftProtobuf() throws {
        var random = SplitMix64(seed: 0x7665_746F)
        let names = ["authorization", "Authorization", "AUTHORIZATION", "authorizatioN", "x-request-id", ":path", "authorisation", ""]
        for _ in 0..<2000 {
            var headers: [String: String] = [:]
            for _ in 0..<Int(random.next() % 4) {
                headers[names[Int(random.next() % UInt64(names.count))]] = "Bearer " + String(random.next() % 1000)
            }
            var headerMap: [(key: String, value: String, raw: [UInt8])]?
            if random.next() % 2 == 0 {
                headerMap = (0..<Int(random.next() % 4)).map { _ in
                    let value = "Bearer v" + String(random.next() % 100)
                    return (
                        names[Int(random.next() % UInt64(names.count))], random.next() % 2 == 0 ? value : "",
                        random.next() % 2 == 0 ? Array(value.utf8) : []
                    )
                }
            }
            var bytes: [UInt8] = try Self.request(headers: headers, headerMap: headerMap).serializedBytes()
            Self.expectSame(bytes)
            for _ in 0..<Int(random.next() % 4) where !bytes.isEmpty {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes.removeSubrange(position...)
                default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                }
            }
            Self.expectSame(bytes)
        }
    }
}

/// A length-delimited field.
func field(_ number: Int, _ payload: [UInt8]) -> [UInt8] {
    varint(number << 3 | 2) + varint(payload.count) + payload
}

func varint(_ value: Int) -> [UInt8] {
    var value = value
    var out: [UInt8] = []
    while value >= 0x80 {
        out.append(UInt8(value & 0x7F) | 0x80)
        value >>= 7
    }
    out.append(UInt8(value))
    return out
}

/// A small deterministic generator, so a failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
