import Foundation
import Hummingbird
import NIOCore

/// `POST /oidc/backchannel-logout` (OpenID Connect Back-Channel Logout 1.0 §2.5, §2.8): a form with
/// `logout_token`. The token authenticates itself: its signature by a configured issuer with
/// `backchannel_logout`. 200 once the cut-off is stored; 400 with a code; 503 when the store fails.
struct BackchannelLogoutRoute: Sendable {
    static let path = "/oidc/backchannel-logout"

    let processor: SignalProcessor
    let validator: LogoutTokenValidator
    let maxBodyBytes: Int

    func register(on router: Router<BasicRequestContext>) {
        router.post(RouterPath(Self.path)) { request, _ in await answer(request) }
    }

    func answer(_ request: Request) async -> Response {
        guard SignalResponses.hasMediaType(request, "application/x-www-form-urlencoded") else {
            refusedBeforeReading("unsupported_media_type")
            return SignalResponses.unsupportedMediaType(.oauth, expected: "application/x-www-form-urlencoded with logout_token")
        }
        guard let body = await SignalResponses.body(request, limit: maxBodyBytes) else {
            refusedBeforeReading("body_too_large")
            return SignalResponses.tooLarge(.oauth, limit: maxBodyBytes)
        }
        let token: String
        switch Self.logoutToken(String(buffer: body)) {
        case let .success(found): token = found
        case let .failure(refusal):
            return SignalResponses.failure(processor.refused(refusal, source: .backchannelLogout), shape: .oauth)!
        }
        let outcome = await processor.logout(Array(token.utf8), validator: validator)
        return SignalResponses.failure(outcome, shape: .oauth) ?? SignalResponses.empty(.ok)
    }

    private func refusedBeforeReading(_ code: String) {
        processor.refusedRequest(code, source: .backchannelLogout)
    }

    /// The one `logout_token` of a form body. Other parameters are ignored; a second `logout_token`
    /// is refused, since two parsers could pick different ones.
    static func logoutToken(_ form: String) -> Result<String, SignalRefusal> {
        var found: String?
        for pair in form.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard decode(parts[0]) == "logout_token" else { continue }
            guard found == nil else { return .failure(SignalRefusal(.malformedToken, "The form has logout_token twice.")) }
            guard let value = parts.count > 1 ? decode(parts[1]) : "" else {
                return .failure(SignalRefusal(.malformedToken, "The logout_token is not valid percent-encoding."))
            }
            found = value
        }
        guard let found, !found.isEmpty else { return .failure(SignalRefusal(.malformedToken, "The form has no logout_token.")) }
        return .success(found)
    }

    private static func decode(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
