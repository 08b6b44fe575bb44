import NIOHPACK

/// The methods Veto's gRPC server answers, by `:path`. All are unary but `Health/Watch`, which streams
/// its answers.
enum GRPCMethod: Sendable, Equatable {
    /// `envoy.service.auth.v3.Authorization/Check`
    case check
    /// `grpc.health.v1.Health/Check`
    case healthCheck
    /// `grpc.health.v1.Health/Watch`
    case healthWatch

    static let checkPath = "/envoy.service.auth.v3.Authorization/Check"
    static let healthCheckPath = "/grpc.health.v1.Health/Check"
    static let healthWatchPath = "/grpc.health.v1.Health/Watch"

    init?(path: String) {
        switch path {
        case Self.checkPath: self = .check
        case Self.healthCheckPath: self = .healthCheck
        case Self.healthWatchPath: self = .healthWatch
        default: return nil
        }
    }
}

/// The request headers a call is judged by, read in one pass (NIO has already checked the block:
/// lower-case names, pseudo-headers first and once each).
struct RequestHeaders {
    var method: String?
    var path: String?
    var contentType: String?
    /// `grpc-encoding`: the compression of the client's messages.
    var encoding: String?

    init(_ headers: HPACKHeaders) {
        for (name, value, _) in headers {
            switch name {
            case ":method": method = method ?? value
            case ":path": path = path ?? value
            case "content-type": contentType = contentType ?? value
            case "grpc-encoding": encoding = encoding ?? value
            default: break
            }
        }
    }
}
