/// Identifier comparison by bytes.
///
/// RFC 7519 §2: StringOrURI values (`iss`, `aud`, `sub`, `jti`, `kid`, …) compare as case-sensitive
/// strings "with no transformations or canonicalizations applied". Swift's `String ==` compares by
/// Unicode canonical equivalence, so `"café"` (precomposed) equals `"cafe\u{301}"` and U+212A KELVIN
/// SIGN equals `K`. Every identifier Veto compares goes through these instead.
extension String {
    /// Whether the two strings have the same UTF-8 bytes (code point equality, never canonical equivalence).
    @inlinable
    package func hasSameBytes(as other: String) -> Bool {
        let count = utf8.count
        guard count == other.utf8.count else { return false }
        // Native strings are contiguous UTF-8: compare in place.
        if let equal = utf8.withContiguousStorageIfAvailable({ lhs in
            other.utf8.withContiguousStorageIfAvailable { rhs in lhs.elementsEqual(rhs) }
        }), let equal {
            return equal
        }
        return utf8.elementsEqual(other.utf8)
    }
}

extension Sequence<String> {
    /// `contains` by bytes (see `String.hasSameBytes(as:)`).
    @inlinable
    package func containsExactly(_ value: String) -> Bool {
        contains { $0.hasSameBytes(as: value) }
    }
}

/// A string used as a dictionary key or set member by its bytes, never by canonical equivalence.
package struct ExactString: Hashable, Sendable, CustomStringConvertible {
    package let value: String

    @inlinable
    package init(_ value: String) {
        self.value = value
    }

    @inlinable
    package static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        lhs.value.hasSameBytes(as: rhs.value)
    }

    @inlinable
    package func hash(into hasher: inout Hasher) {
        var value = value
        value.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    package var description: String { value }
}
