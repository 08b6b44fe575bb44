/// A strict RFC 8259 reader for JOSE: UTF-8 only, duplicate member names rejected
/// (RFC 7515 §4 lets a parser reject them, and accepting them lets two parsers disagree),
/// nesting depth bounded, no trailing data, lone surrogates rejected.
///
/// Member names compare by their bytes (RFC 8259 §8.3: code unit by code unit), never by Unicode
/// canonical equivalence, and duplicate detection costs linear time whatever the names: an
/// unauthenticated body full of distinct names must not cost quadratic work (security finding 3).
package struct JSONReader: Sendable {
    package var maxDepth: Int
    /// The most members one object, or elements one array, may have: the reader stops before the
    /// work grows with a hostile input.
    package var maxMembers: Int

    package static let defaultMaxMembers = 4096

    package init(maxDepth: Int = 32, maxMembers: Int = JSONReader.defaultMaxMembers) {
        self.maxDepth = maxDepth
        self.maxMembers = maxMembers
    }

    package func parse<C: Collection>(_ bytes: C) throws(JSONError) -> JSONValue where C.Element == UInt8 {
        try parse(Array(bytes))
    }

    /// The same for bytes in an array: callers in other modules get this non-generic entry point
    /// instead of an unspecialised generic copy (a tenth of the cost of replaying a journal record).
    package func parse(_ buffer: [UInt8]) throws(JSONError) -> JSONValue {
        var parser = Parser(bytes: buffer, maxDepth: maxDepth, maxMembers: maxMembers)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index != buffer.count { throw JSONError(.trailingData, at: parser.index) }
        return value
    }

    /// Parses a JSON text that must be an object (a JOSE header or a claims set).
    package func parseObject<C: Collection>(_ bytes: C) throws(JSONError) -> JSONObject where C.Element == UInt8 {
        try parseObject(Array(bytes))
    }

    package func parseObject(_ bytes: [UInt8]) throws(JSONError) -> JSONObject {
        guard case let .object(object) = try parse(bytes) else { throw JSONError(.notAnObject, at: 0) }
        return object
    }

    package func parseObject(_ bytes: ArraySlice<UInt8>) throws(JSONError) -> JSONObject {
        try parseObject(Array(bytes))
    }
}

private struct Parser {
    let bytes: [UInt8]
    let maxDepth: Int
    let maxMembers: Int
    var index = 0

    init(bytes: [UInt8], maxDepth: Int, maxMembers: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        self.maxMembers = maxMembers
    }

    /// Objects up to this many members look for duplicates by a scan (claim sets, headers, journal
    /// records: no hashing); larger ones switch to a set of the names' bytes.
    static let scanLimit = 12

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    func peek() throws(JSONError) -> UInt8 {
        guard index < bytes.count else { throw JSONError(.unexpectedEnd, at: index) }
        return bytes[index]
    }

    mutating func expect(_ literal: StaticString, value: JSONValue) throws(JSONError) -> JSONValue {
        let text = literal.utf8Start
        for offset in 0..<literal.utf8CodeUnitCount {
            guard index < bytes.count else { throw JSONError(.unexpectedEnd, at: index) }
            guard bytes[index] == text[offset] else { throw JSONError(.unexpectedByte(bytes[index]), at: index) }
            index += 1
        }
        return value
    }

    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        let byte = try peek()
        switch byte {
        case UInt8(ascii: "{"): return .object(try parseObject(depth: depth + 1))
        case UInt8(ascii: "["): return .array(try parseArray(depth: depth + 1))
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try expect("true", value: .bool(true))
        case UInt8(ascii: "f"): return try expect("false", value: .bool(false))
        case UInt8(ascii: "n"): return try expect("null", value: .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw JSONError(byte >= 0x80 ? .invalidUTF8 : .unexpectedByte(byte), at: index)
        }
    }

    mutating func parseObject(depth: Int) throws(JSONError) -> JSONObject {
        if depth > maxDepth { throw JSONError(.tooDeep(limit: maxDepth), at: index) }
        index += 1  // {
        var members: [JSONObject.Member] = []
        members.reserveCapacity(Self.scanLimit)  // claim sets and journal records: one allocation
        var names: Set<ExactString>?
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            index += 1
            return JSONObject(members: members)
        }
        while true {
            skipWhitespace()
            let nameOffset = index
            guard try peek() == UInt8(ascii: "\"") else { throw JSONError(.unexpectedByte(bytes[index]), at: index) }
            let name = try parseString()
            if members.count >= maxMembers { throw JSONError(.tooManyMembers(limit: maxMembers), at: nameOffset) }
            if var seen = names {
                names = nil  // keep the set uniquely referenced while inserting
                guard seen.insert(ExactString(name)).inserted else { throw JSONError(.duplicateMember(name), at: nameOffset) }
                names = seen
            } else {
                for member in members where member.name.hasSameBytes(as: name) {
                    throw JSONError(.duplicateMember(name), at: nameOffset)
                }
                if members.count + 1 >= Self.scanLimit {
                    var seen = Set<ExactString>(minimumCapacity: Self.scanLimit * 4)
                    for member in members { seen.insert(ExactString(member.name)) }
                    seen.insert(ExactString(name))
                    names = seen
                }
            }
            skipWhitespace()
            guard try peek() == UInt8(ascii: ":") else { throw JSONError(.unexpectedByte(bytes[index]), at: index) }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append(JSONObject.Member(name: name, value: value))
            skipWhitespace()
            let next = try peek()
            index += 1
            if next == UInt8(ascii: ",") { continue }
            if next == UInt8(ascii: "}") { return JSONObject(members: members) }
            throw JSONError(.unexpectedByte(next), at: index - 1)
        }
    }

    mutating func parseArray(depth: Int) throws(JSONError) -> [JSONValue] {
        if depth > maxDepth { throw JSONError(.tooDeep(limit: maxDepth), at: index) }
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            index += 1
            return elements
        }
        while true {
            skipWhitespace()
            if elements.count >= maxMembers { throw JSONError(.tooManyMembers(limit: maxMembers), at: index) }
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            let next = try peek()
            index += 1
            if next == UInt8(ascii: ",") { continue }
            if next == UInt8(ascii: "]") { return elements }
            throw JSONError(.unexpectedByte(next), at: index - 1)
        }
    }

    mutating func parseNumber() throws(JSONError) -> JSONNumber {
        let start = index
        func digit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, digit(bytes[index]) else { throw JSONError(.invalidNumber, at: start) }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, digit(bytes[index]) { throw JSONError(.invalidNumber, at: start) }
        } else {
            while index < bytes.count, digit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, digit(bytes[index]) else { throw JSONError(.invalidNumber, at: start) }
            while index < bytes.count, digit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, digit(bytes[index]) else { throw JSONError(.invalidNumber, at: start) }
            while index < bytes.count, digit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        // Integers of up to 15 digits (every NumericDate) are exact doubles: no need for the general
        // decimal parser, which costs more than the rest of the number.
        let negative = bytes[start] == UInt8(ascii: "-")
        let digits = index - start - (negative ? 1 : 0)
        if digits <= 15, !bytes[start..<index].contains(where: { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }) {
            var magnitude: Int64 = 0
            for byte in bytes[(negative ? start + 1 : start)..<index] { magnitude = magnitude * 10 + Int64(byte - UInt8(ascii: "0")) }
            let value = Double(magnitude)
            return JSONNumber(text: text, doubleValue: negative ? -value : value)
        }
        // Double's parser saturates to ±infinity on overflow; callers treat non-finite as malformed.
        guard let value = Double(text) else { throw JSONError(.invalidNumber, at: start) }
        return JSONNumber(text: text, doubleValue: value)
    }

    mutating func parseString() throws(JSONError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes, so the bytes are the string once validated as UTF-8. ASCII needs no
        // validation (and the generic validator is costly), so only strings with other bytes get it.
        var ascii = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                if ascii {
                    index += 1
                    return String(decoding: bytes[start..<(index - 1)], as: UTF8.self)
                }
                guard let string = String(validating: bytes[start..<index], as: UTF8.self) else {
                    throw JSONError(.invalidUTF8, at: firstInvalidUTF8(from: start, to: index))
                }
                index += 1
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw JSONError(.controlCharacterInString, at: index) }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        guard index < bytes.count else { throw JSONError(.unexpectedEnd, at: index) }
        // Slow path with escapes.
        var scalars = [UInt8](bytes[start..<index])
        while true {
            guard index < bytes.count else { throw JSONError(.unexpectedEnd, at: index) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                guard let string = String(validating: scalars, as: UTF8.self) else {
                    throw JSONError(.invalidUTF8, at: firstInvalidUTF8(from: start, to: index))
                }
                index += 1
                return string
            }
            if byte < 0x20 { throw JSONError(.controlCharacterInString, at: index) }
            if byte != UInt8(ascii: "\\") {
                scalars.append(byte)
                index += 1
                continue
            }
            let escapeStart = index
            index += 1
            guard index < bytes.count else { throw JSONError(.unexpectedEnd, at: index) }
            let escaped = bytes[index]
            index += 1
            switch escaped {
            case UInt8(ascii: "\""): scalars.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): scalars.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): scalars.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): scalars.append(0x08)
            case UInt8(ascii: "f"): scalars.append(0x0C)
            case UInt8(ascii: "n"): scalars.append(0x0A)
            case UInt8(ascii: "r"): scalars.append(0x0D)
            case UInt8(ascii: "t"): scalars.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4(at: escapeStart)
                if (0xD800...0xDBFF).contains(code) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw JSONError(.loneSurrogate, at: escapeStart)
                    }
                    index += 2
                    let low = try hex4(at: escapeStart)
                    guard (0xDC00...0xDFFF).contains(low) else { throw JSONError(.loneSurrogate, at: escapeStart) }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(code) {
                    throw JSONError(.loneSurrogate, at: escapeStart)
                }
                guard let scalar = Unicode.Scalar(code) else { throw JSONError(.invalidEscape, at: escapeStart) }
                scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw JSONError(.invalidEscape, at: escapeStart)
            }
        }
    }

    mutating func hex4(at escapeStart: Int) throws(JSONError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw JSONError(.unexpectedEnd, at: bytes.count) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let nibble: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw JSONError(.invalidEscape, at: escapeStart)
            }
            value = value << 4 | nibble
            index += 1
        }
        return value
    }

    /// Locates the first byte of an invalid UTF-8 sequence, for the error message.
    func firstInvalidUTF8(from start: Int, to end: Int) -> Int {
        var position = start
        while position < end {
            let byte = bytes[position]
            let length: Int
            switch byte {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return position
            }
            if position + length > end { return position }
            if String(validating: bytes[position..<position + length], as: UTF8.self) == nil { return position }
            position += length
        }
        return start
    }
}
