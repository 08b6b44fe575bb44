import Foundation
import VetoCore

/// Reads files from the test bundle's `Vectors` folder.
enum Vectors {
    static let root: URL = {
        guard let url = Bundle.module.url(forResource: "Vectors", withExtension: nil) else {
            fatalError("the Vectors resource folder is missing from the test bundle")
        }
        return url
    }()

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: root.appendingPathComponent(path)))
    }

    static func text(_ path: String) throws -> String {
        String(decoding: try bytes(path), as: UTF8.self)
    }

    static func object(_ path: String) throws -> JSONObject {
        try JSONReader(maxDepth: 64).parseObject(try bytes(path))
    }
}

extension JSONObject {
    /// The object serialised compactly, as the bytes of a key file.
    var fileBytes: [UInt8] { Array(JSONWriter.compact(.object(self)).utf8) }

    func string(_ name: String) -> String? { self[name]?.stringValue }
    func object(_ name: String) -> JSONObject? { self[name]?.objectValue }
}
