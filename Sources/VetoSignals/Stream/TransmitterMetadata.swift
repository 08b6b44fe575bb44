import VetoCore
import VetoServer

/// The transmitter configuration metadata (SSF 1.0 §7.1, `/.well-known/ssf-configuration`).
package struct TransmitterMetadata: Sendable {
    package let issuer: String
    package let jwksURI: HTTPURL?
    package let configurationEndpoint: HTTPURL?
    package let verificationEndpoint: HTTPURL?
    package let deliveryMethods: [String]

    /// - Throws: when the document is not an object, or its `issuer` is not `expectedIssuer` byte for
    ///   byte (one transmitter must not hand out another's keys), or a URL in it is unusable.
    package static func parse(_ body: [UInt8], expectedIssuer: String, source: HTTPURL) throws(PollError) -> TransmitterMetadata {
        let object: JSONObject
        do {
            object = try JSONReader(maxDepth: 16, maxMembers: 256).parseObject(body)
        } catch {
            throw PollError("\(source.redacted): the transmitter metadata is not a JSON object: \(error)")
        }
        guard let issuer = object["issuer"]?.stringValue else { throw PollError("\(source.redacted): the metadata has no string issuer") }
        guard issuer.hasSameBytes(as: expectedIssuer) else {
            throw PollError(
                "\(source.redacted): the metadata's issuer is \(JSONWriter.quoted(issuer)); expected \(JSONWriter.quoted(expectedIssuer))")
        }
        return TransmitterMetadata(
            issuer: issuer,
            jwksURI: try TransmitterClient.trusted(object["jwks_uri"]?.stringValue, named: "jwks_uri", from: source),
            configurationEndpoint: try TransmitterClient.trusted(
                object["configuration_endpoint"]?.stringValue, named: "configuration_endpoint", from: source),
            verificationEndpoint: try TransmitterClient.trusted(
                object["verification_endpoint"]?.stringValue, named: "verification_endpoint", from: source),
            deliveryMethods: object["delivery_methods_supported"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }
}

/// A stream's configuration as the transmitter answers it (SSF 1.0 §8.1.1): its id, and for poll
/// delivery the URL to poll.
package struct StreamConfiguration: Sendable, Equatable {
    package static let pushMethod = "urn:ietf:rfc:8935"
    package static let pollMethod = "urn:ietf:rfc:8936"

    package let streamID: String
    package let endpointURL: String?

    package static func parse(_ body: [UInt8]) throws(PollError) -> StreamConfiguration {
        let object: JSONObject
        do {
            object = try JSONReader(maxDepth: 16, maxMembers: 1024).parseObject(body)
        } catch {
            throw PollError("the stream configuration is not a JSON object: \(error)")
        }
        // A read may answer a list of streams (SSF 1.0 §8.1.1.2) when no stream_id matched exactly.
        guard let id = object["stream_id"]?.stringValue, !id.isEmpty else { throw PollError("the stream configuration has no stream_id") }
        return StreamConfiguration(streamID: id, endpointURL: object["delivery"]?.objectValue?["endpoint_url"]?.stringValue)
    }

    /// The body of a stream creation: the delivery, the events Veto acts on or logs, and a description.
    package static func creation(push endpoint: String?, authorization: String?) -> String {
        var delivery = JSONObject()
        if let endpoint {
            delivery["method"] = .string(pushMethod)
            delivery["endpoint_url"] = .string(endpoint)
            if let authorization { delivery["authorization_header"] = .string(authorization) }
        } else {
            delivery["method"] = .string(pollMethod)
        }
        var object = JSONObject()
        object["delivery"] = .object(delivery)
        object["events_requested"] = .array(
            SignalEvent.allCases.filter { $0 != .backchannelLogout && $0 != .verification }.map { .string($0.rawValue) })
        object["description"] = .string("veto")
        return JSONWriter.compact(.object(object))
    }
}
