/// The `Authorization` value of an Envoy `CheckRequest`, read from its protobuf bytes in place.
///
/// Only `attributes(1).request(4).http(2)` is walked: its `headers` map (3) and `header_map` (13).
/// Everything else is skipped, but checked to be well-formed wire format, and the `string` fields
/// of the messages Veto knows (Protos/external_auth.proto) must be UTF-8, as SwiftProtobuf decoding
/// the generated `Envoy_Service_Auth_V3_CheckRequest` requires: a request it would refuse is
/// refused here too (INVALID_ARGUMENT), and one it reads yields the same value (the differential
/// tests in VetoGRPCTests compare the two).
///
/// What the value is, as `/v1/check` reads headers: several `Authorization` headers joined with
/// ", " (so two are refused alike), names compared case-insensitively. From `header_map` when the
/// request has one (Envoy's `encode_raw_headers: true`: one entry per header line, the value in
/// `raw_value`, else `value`), else from the `headers` map, where a repeated key keeps its last value.
enum CheckRequestReader {
    typealias Failure = ProtobufReader.Failure

    static func authorization(in message: UnsafeRawBufferPointer) throws(Failure) -> String? {
        var found = Found()
        var reader = ProtobufReader(message)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            if field == 1, wireType == .lengthDelimited {
                try attributes(try reader.readLengthDelimited(), into: &found)
            } else {
                try reader.skip(field: field, wireType: wireType)
            }
        }
        return found.value
    }

    /// The Authorization headers seen so far, by the request's two representations.
    private struct Found {
        /// `headers` map entries named Authorization in any case: key and last value.
        var mapEntries: [(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)] = []
        var hasHeaderMap = false
        /// `header_map` entries named Authorization: their values, in order.
        var headerMapValues: [UnsafeRawBufferPointer] = []

        var value: String? {
            let values = hasHeaderMap ? headerMapValues : mapEntries.map(\.value)
            guard let first = values.first else { return nil }
            var joined = String(decoding: first, as: UTF8.self)
            for value in values.dropFirst() { joined += ", " + String(decoding: value, as: UTF8.self) }
            return joined
        }
    }

    /// AttributeContext: request(4).
    private static func attributes(_ bytes: UnsafeRawBufferPointer, into found: inout Found) throws(Failure) {
        var reader = ProtobufReader(bytes)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            if field == 4, wireType == .lengthDelimited {
                try request(try reader.readLengthDelimited(), into: &found)
            } else {
                try reader.skip(field: field, wireType: wireType)
            }
        }
    }

    /// AttributeContext.Request: http(2).
    private static func request(_ bytes: UnsafeRawBufferPointer, into found: inout Found) throws(Failure) {
        var reader = ProtobufReader(bytes)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            if field == 2, wireType == .lengthDelimited {
                try http(try reader.readLengthDelimited(), into: &found)
            } else {
                try reader.skip(field: field, wireType: wireType)
            }
        }
    }

    /// AttributeContext.HttpRequest: method(2), headers(3), path(4), header_map(13).
    private static func http(_ bytes: UnsafeRawBufferPointer, into found: inout Found) throws(Failure) {
        var reader = ProtobufReader(bytes)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            guard wireType == .lengthDelimited else {
                try reader.skip(field: field, wireType: wireType)
                continue
            }
            let payload = try reader.readLengthDelimited()
            switch field {
            case 2, 4: _ = try ProtobufReader.validatedUTF8(payload)
            case 3: try mapEntry(payload, into: &found)
            case 13:
                found.hasHeaderMap = true
                try headerMap(payload, into: &found)
            default: break
            }
        }
    }

    /// One `headers` map entry: key(1), value(2), both strings.
    private static func mapEntry(_ bytes: UnsafeRawBufferPointer, into found: inout Found) throws(Failure) {
        var reader = ProtobufReader(bytes)
        var key = UnsafeRawBufferPointer(start: nil, count: 0)
        var value = UnsafeRawBufferPointer(start: nil, count: 0)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            if wireType == .lengthDelimited, field == 1 || field == 2 {
                let payload = try ProtobufReader.validatedUTF8(try reader.readLengthDelimited())
                if field == 1 { key = payload } else { value = payload }
            } else {
                try reader.skip(field: field, wireType: wireType)
            }
        }
        guard isAuthorization(key) else { return }
        if let same = found.mapEntries.firstIndex(where: { $0.key.elementsEqual(key) }) {
            found.mapEntries[same].value = value
        } else {
            found.mapEntries.append((key, value))
        }
    }

    /// HeaderMap: headers(1), each a HeaderValue: key(1) and value(2) strings, raw_value(3) bytes.
    private static func headerMap(_ bytes: UnsafeRawBufferPointer, into found: inout Found) throws(Failure) {
        var reader = ProtobufReader(bytes)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            guard field == 1, wireType == .lengthDelimited else {
                try reader.skip(field: field, wireType: wireType)
                continue
            }
            var header = ProtobufReader(try reader.readLengthDelimited())
            var key = UnsafeRawBufferPointer(start: nil, count: 0)
            var value = key
            var rawValue = key
            while !header.isAtEnd {
                let (inner, innerType) = try header.readTag()
                guard innerType == .lengthDelimited, (1...3).contains(inner) else {
                    try header.skip(field: inner, wireType: innerType)
                    continue
                }
                let payload = try header.readLengthDelimited()
                switch inner {
                case 1: key = try ProtobufReader.validatedUTF8(payload)
                case 2: value = try ProtobufReader.validatedUTF8(payload)
                default: rawValue = payload
                }
            }
            if isAuthorization(key) { found.headerMapValues.append(rawValue.isEmpty ? value : rawValue) }
        }
    }

    /// "authorization" in any ASCII case (a name with other bytes never equals it, lower-cased or not).
    static func isAuthorization(_ name: UnsafeRawBufferPointer) -> Bool {
        guard name.count == 13 else { return false }
        let expected: StaticString = "authorization"
        for index in 0..<13 where name[index] | 0x20 != expected.utf8Start[index] { return false }
        return true
    }
}
