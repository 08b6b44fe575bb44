import Foundation
import Hummingbird
import NIOCore
import VetoCore

/// Reading control-plane request bodies strictly: JSON objects through Veto's JSON reader,
/// and `application/x-www-form-urlencoded` for the OAuth endpoints.
enum RequestInput {
    static func body(_ request: Request, limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "body_too_large", "The request body is over the limit of \(limit) bytes.")
        }
    }

    static func jsonObject(_ request: Request, limit: Int) async throws -> JSONObject {
        let buffer = try await body(request, limit: limit)
        do {
            return try RequestBody.reader.parseObject(buffer.readableBytesView)
        } catch {
            throw APIError.badRequest("The body is not a JSON object: \(error).")
        }
    }

    /// The `recognized` parameters of a form body. RFC 6749 §3.1: a recognized parameter must not
    /// appear twice, and unrecognized ones are ignored (whatever their count or encoding).
    static func form(_ request: Request, limit: Int, recognized: Set<String>) async throws -> [String: String] {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw APIError.badRequest("Send the parameters as application/x-www-form-urlencoded (RFC 6749 §2.3).")
        }
        let buffer = try await body(request, limit: limit)
        return try parseForm(String(buffer: buffer), recognized: recognized)
    }

    static func parseForm(_ text: String, recognized: Set<String>) throws -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), recognized.contains(name) else { continue }
            let value = parts.count > 1 ? decode(parts[1]) : ""
            guard let value else { throw APIError.badRequest("The form field \"\(name)\" is not valid percent-encoding.") }
            if result[name] != nil { throw APIError.badRequest("The form field \"\(name)\" appears twice (RFC 6749 §3.1).") }
            result[name] = value
        }
        return result
    }

    static func decode(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    static func string(_ object: JSONObject, _ name: String, required: Bool) throws -> String? {
        guard let value = object[name] else {
            if required { throw APIError.badRequest("The field \"\(name)\" is required.") }
            return nil
        }
        guard let string = value.stringValue, !string.isEmpty else {
            throw APIError.badRequest("The field \"\(name)\" must be a non-empty string, not \(value.typeDescription).")
        }
        return string
    }

    static func number(_ object: JSONObject, _ name: String) throws -> Double? {
        guard let value = object[name] else { return nil }
        guard let number = value.numberValue?.doubleValue, number.isFinite, abs(number) <= JWTClaims.maxNumericDate else {
            throw APIError.badRequest("The field \"\(name)\" must be a NumericDate (seconds since 1970), not \(value.typeDescription).")
        }
        return number
    }
}
