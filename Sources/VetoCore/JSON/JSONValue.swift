/// A JSON value that keeps object members in their original order, for display, and keeps
/// each number's original text, so that `1712400000` is shown as written and not as `1.7124e9`.
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    package var stringValue: String? {
        if case let .string(value) = self { return value }
        return nil
    }

    package var numberValue: JSONNumber? {
        if case let .number(value) = self { return value }
        return nil
    }

    package var objectValue: JSONObject? {
        if case let .object(value) = self { return value }
        return nil
    }

    package var arrayValue: [JSONValue]? {
        if case let .array(value) = self { return value }
        return nil
    }

    /// The JSON type name, as used in error messages ("a string", "an object", …).
    package var typeDescription: String {
        switch self {
        case .null: "null"
        case let .bool(value): "the boolean \(value)"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A JSON number: its source text and its value as a `Double`.
/// A literal too large for a `Double` has an infinite `doubleValue`, never a wrapped one.
package struct JSONNumber: Sendable, Equatable, CustomStringConvertible {
    package let text: String
    package let doubleValue: Double

    package init(text: String, doubleValue: Double) {
        self.text = text
        self.doubleValue = doubleValue
    }

    package init(_ value: Int64) {
        self.text = String(value)
        self.doubleValue = Double(value)
    }

    package var isInteger: Bool {
        !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }

    package var description: String { text }
}

/// A JSON object whose members keep their order. Names are unique: the reader rejects duplicates.
package struct JSONObject: Sendable, Equatable {
    package struct Member: Sendable, Equatable {
        package var name: String
        package var value: JSONValue

        package init(name: String, value: JSONValue) {
            self.name = name
            self.value = value
        }
    }

    package private(set) var members: [Member]

    package init(members: [Member] = []) {
        self.members = members
    }

    package subscript(name: String) -> JSONValue? {
        get {
            // Linear: JOSE headers and claim sets are small, and this avoids hashing every name.
            // By bytes: names are identifiers (RFC 8259 §8.3), never compared by canonical equivalence.
            for member in members where member.name.hasSameBytes(as: name) { return member.value }
            return nil
        }
        set {
            if let index = members.firstIndex(where: { $0.name.hasSameBytes(as: name) }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append(Member(name: name, value: newValue))
            }
        }
    }

    package var names: [String] { members.map(\.name) }
    package var count: Int { members.count }
    package var isEmpty: Bool { members.isEmpty }
}
