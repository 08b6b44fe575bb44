import Yams

/// Writes a YAML document as JSON, key order kept: what `json.dumps(yaml.safe_load(text), indent=2,
/// ensure_ascii=False)` prints, so `/openapi.json` reads in the same order as openapi.yaml.
///
/// YAML 1.1 scalars as PyYAML resolves them (plain `true`, `1024`, `null`; quoted scalars stay
/// strings), anchors and aliases, and merge keys (`<<`) with PyYAML's order: the merged keys come
/// first and a key the mapping repeats keeps the merged position but takes the mapping's value.
/// Anything JSON cannot carry (timestamps, binary, `.inf`, non-scalar keys) is an error.
enum YAMLAsJSON {
    struct UnsupportedYAML: Error, CustomStringConvertible {
        let description: String
    }

    static func render(yaml: String) throws -> String {
        guard let root = try Yams.compose(yaml: yaml) else { throw UnsupportedYAML(description: "the document is empty") }
        var output = ""
        try write(root, indent: 0, into: &output)
        return output
    }

    private static func write(_ node: Node, indent: Int, into output: inout String) throws {
        switch node {
        case .scalar:
            output += try scalar(node)
        case let .sequence(sequence):
            try writeContainer(Array(sequence), open: "[", close: "]", indent: indent, into: &output) { item, output in
                try write(item, indent: indent + 2, into: &output)
            }
        case let .mapping(mapping):
            try writeContainer(try members(of: mapping), open: "{", close: "}", indent: indent, into: &output) { member, output in
                output += quoted(member.key) + ": "
                try write(member.value, indent: indent + 2, into: &output)
            }
        case .alias:
            throw UnsupportedYAML(description: "an unresolved alias at \(node.mark.map { "\($0)" } ?? "?")")
        }
    }

    /// `[]` / `{}` when empty, else one element per line, indented two more than the bracket.
    private static func writeContainer<Element>(
        _ elements: [Element], open: String, close: String, indent: Int, into output: inout String,
        element: (Element, inout String) throws -> Void
    ) throws {
        guard !elements.isEmpty else {
            output += open + close
            return
        }
        let inner = String(repeating: " ", count: indent + 2)
        output += open
        for (index, item) in elements.enumerated() {
            output += (index == 0 ? "\n" : ",\n") + inner
            try element(item, &output)
        }
        output += "\n" + String(repeating: " ", count: indent) + close
    }

    /// The mapping's members after merging `<<` keys, in PyYAML's (Python dict's) order.
    private static func members(of mapping: Node.Mapping) throws -> [(key: String, value: Node)] {
        var result: [(key: String, value: Node)] = []
        var position: [String: Int] = [:]
        for (keyNode, value) in try flattened(mapping) {
            let key = try memberName(keyNode)
            if let index = position[key] {
                result[index].value = value
            } else {
                position[key] = result.count
                result.append((key, value))
            }
        }
        return result
    }

    /// PyYAML's `flatten_mapping`: the pairs merged in by `<<` (a mapping, or a sequence of
    /// mappings taken last to first) go before the mapping's own pairs.
    private static func flattened(_ mapping: Node.Mapping) throws -> [(key: Node, value: Node)] {
        var merged: [(key: Node, value: Node)] = []
        var own: [(key: Node, value: Node)] = []
        for (key, value) in mapping {
            guard tagName(key) == .merge else {
                own.append((key, value))
                continue
            }
            switch value {
            case let .mapping(source):
                merged += try flattened(source)
            case let .sequence(sources):
                for source in sources.reversed() {
                    guard case let .mapping(sourceMapping) = source else {
                        throw UnsupportedYAML(description: "a merge key (<<) takes mappings only")
                    }
                    merged += try flattened(sourceMapping)
                }
            default:
                throw UnsupportedYAML(description: "a merge key (<<) takes a mapping or a sequence of mappings")
            }
        }
        return merged + own
    }

    /// A key as `json.dumps` writes it: strings as they are, other scalars as their JSON text.
    private static func memberName(_ key: Node) throws -> String {
        guard case let .scalar(scalar) = key else {
            throw UnsupportedYAML(description: "a mapping key that is not a scalar, at \(key.mark.map { "\($0)" } ?? "?")")
        }
        return tagName(key) == .str ? scalar.string : try self.scalar(key)
    }

    private static func scalar(_ node: Node) throws -> String {
        switch tagName(node) {
        case .str:
            if let string = node.string { return quoted(string) }
        case .null:
            return "null"
        case .bool:
            if let bool = node.bool { return bool ? "true" : "false" }
        case .int:
            if let int = node.int { return String(int) }
        case .float:
            if let double = node.float, double.isFinite { return String(double) }
        default:
            break
        }
        throw UnsupportedYAML(description: "\(node.string.map { "\"\($0)\"" } ?? "a value") (\(node.tag.rawValue)) has no JSON form")
    }

    /// The node's resolved tag (`Tag.name` is internal to Yams).
    private static func tagName(_ node: Node) -> Tag.Name {
        Tag.Name(rawValue: node.tag.rawValue)
    }

    /// A JSON string as Python's `json.dumps(ensure_ascii=False)` writes it.
    static func quoted(_ string: String) -> String {
        var output = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }
}
