import NIOCore
import SwiftProtobuf
import Testing
import VetoCore

@testable import VetoGRPC
@testable import VetoServer

/// The hand-written `CheckResponse` decoded with the generated messages equals what the front door
/// built with SwiftProtobuf before (`ReferenceAuthorization`), for every kind of verdict.
@Suite struct CheckResponseWriterTests {
    typealias Response = Envoy_Service_Auth_V3_CheckResponse

    /// The message after its gRPC prefix, which must announce exactly its length.
    static func decode(_ framed: ByteBuffer) throws -> Response {
        var framed = framed
        let flag = framed.readInteger(as: UInt8.self)
        #expect(flag == 0)
        let announced = framed.readInteger(as: UInt32.self)
        let length = try #require(announced)
        #expect(Int(length) == framed.readableBytes)
        return try Response(serializedBytes: Array(framed.readableBytesView))
    }

    static func expectAsBefore(_ verdict: GatewayVerdict, strip: Bool, sourceLocation: SourceLocation = #_sourceLocation) throws -> Response {
        let written = CheckResponseWriter.framedResponse(to: verdict, stripAuthorization: strip, allocator: ByteBufferAllocator())
        let decoded = try decode(written)
        #expect(decoded == ReferenceAuthorization.response(to: verdict, stripAuthorization: strip), sourceLocation: sourceLocation)
        return decoded
    }

    @Test(arguments: [false, true])
    func anAllowCarriesTheIdentityHeadersAndMetadata(strip: Bool) throws {
        let response = try Self.expectAsBefore(try TestVerdicts.allowed(), strip: strip)
        #expect(response.status.code == 0 && response.okResponse.headers.count == 5)
        // The mapped claim the token lacks (tenant) is not sent at all: only the four X-Auth-* always are.
        #expect(response.okResponse.headersToRemove == (strip ? ["authorization"] : []))
        #expect(response.dynamicMetadata.fields["sub"]?.stringValue == "user_482")
        #expect(response.dynamicMetadata.fields["exp"]?.numberValue == 2_000_000_000)
    }

    @Test func aMissingClaimRemovesItsHeaderInsteadOfSettingItEmpty() throws {
        let response = try Self.expectAsBefore(try TestVerdicts.allowed(subject: nil, exp: nil), strip: true)
        #expect(response.okResponse.headersToRemove.contains("x-auth-subject"))
        #expect(response.okResponse.headersToRemove.contains("x-auth-expires"))
        #expect(!response.okResponse.headers.contains { $0.header.key == "X-Auth-Subject" })
        #expect(response.dynamicMetadata.fields["sub"] == nil && response.dynamicMetadata.fields["exp"] == nil)
    }

    @Test func aFailOpenAllowSaysItIsDegraded() throws {
        let response = try Self.expectAsBefore(try TestVerdicts.allowed(degraded: true), strip: false)
        #expect(response.okResponse.headers.contains { $0.header.key == "X-Veto-Degraded" && $0.header.value == "store_unavailable" })
    }

    @Test func aDenyIs401WithTheChallengeAndTheReasonAsStatusMessage() throws {
        let response = try Self.expectAsBefore(TestVerdicts.denied(), strip: true)
        #expect(response.status.code == 16 && response.status.message == "audience_mismatch")
        #expect(response.deniedResponse.status.code == .unauthorized)
        #expect(response.deniedResponse.body.contains("\"error\":\"audience_mismatch\""))
        #expect(response.deniedResponse.headers.last?.header.value == "application/json")
        _ = try Self.expectAsBefore(TestVerdicts.denied(.missingToken, "No bearer token."), strip: false)
    }

    @Test func theStoreDownIsUnavailableAnd503NeverOK() throws {
        let response = try Self.expectAsBefore(TestVerdicts.unavailable(), strip: true)
        #expect(response.status.code == 14 && response.deniedResponse.status.code == .serviceUnavailable)
        #expect(response.okResponse == Envoy_Service_Auth_V3_OkHttpResponse() && !response.hasDynamicMetadata)
        #expect(response.deniedResponse.headers.contains { $0.header.key == "Retry-After" && $0.header.value == "2" })
    }

    @Test func longValuesGetMultiByteLengths() throws {
        let long = String(repeating: "s", count: 300)
        _ = try Self.expectAsBefore(try TestVerdicts.allowed(subject: long), strip: false)
        _ = try Self.expectAsBefore(TestVerdicts.denied(.malformedToken, String(repeating: "m", count: 500)), strip: false)
    }
}
