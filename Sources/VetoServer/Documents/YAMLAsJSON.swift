import VetoCore
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
        return JSONWriter.pretty(try value(root))
    }

    private static func value(_ node: Node) throws -> JSONValue {
        switch node {
        case .scalar:
            return try scalar(node)
        case let .sequence(sequence):
            return .array(try sequence.map(value))
        case let .mapping(mapping):
            // After merging `<<` keys, in PyYAML's (Python dict's) order: a repeated key keeps its first
            // position and takes the later value, which is what assigning a JSONObject member does.
            var object = JSONObject()
            for (key, member) in try flattened(mapping) { object[try memberName(key)] = try value(member) }
            return .object(object)
        case .alias:
            throw UnsupportedYAML(description: "an unresolved alias at \(node.mark.map { "\($0)" } ?? "?")")
        }
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
        return tagName(key) == .str ? scalar.string : JSONWriter.compact(try self.scalar(key))
    }

    private static func scalar(_ node: Node) throws -> JSONValue {
        switch tagName(node) {
        case .str:
            if let string = node.string { return .string(string) }
        case .null:
            return .null
        case .bool:
            if let bool = node.bool { return .bool(bool) }
        case .int:
            if let int = node.int { return .number(JSONNumber(Int64(int))) }
        case .float:
            if let double = node.float, double.isFinite { return .number(JSONNumber(text: String(double), doubleValue: double)) }
        default:
            break
        }
        throw UnsupportedYAML(description: "\(node.string.map { "\"\($0)\"" } ?? "a value") (\(node.tag.rawValue)) has no JSON form")
    }

    /// The node's resolved tag (`Tag.name` is internal to Yams).
    private static func tagName(_ node: Node) -> Tag.Name {
        Tag.Name(rawValue: node.tag.rawValue)
    }
}
