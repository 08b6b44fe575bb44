import NIOCore
import VetoCore

/// The same operations from async code (CLI, control plane), on any loop of ``Blocklist/eventLoopGroup``.
extension Blocklist {
    package func status(issuer: String, jti: String?, subject: String?, issuedAt: Double?) async throws -> RevocationStatus {
        try await status(issuer: issuer, jti: jti, subject: subject, issuedAt: issuedAt, on: eventLoopGroup.any()).get()
    }

    package func status(_ query: RevocationQuery) async throws -> RevocationStatus {
        try await status(query, on: eventLoopGroup.any()).get()
    }

    package func cutoff(_ request: CutoffRequest) async throws -> Cutoff {
        try await cutoff(request, on: eventLoopGroup.any()).get()
    }

    package func cutoff(issuer: String, kind: CutoffKind, value: String) async throws -> Cutoff? {
        try await cutoff(issuer: issuer, kind: kind, value: value, on: eventLoopGroup.any()).get()
    }

    package func removeCutoff(issuer: String, kind: CutoffKind, value: String) async throws -> Bool {
        try await removeCutoff(issuer: issuer, kind: kind, value: value, on: eventLoopGroup.any()).get()
    }

    package func cutoffs(issuer: String? = nil, kind: CutoffKind? = nil) async throws -> [Cutoff] {
        try await cutoffs(issuer: issuer, kind: kind, on: eventLoopGroup.any()).get()
    }

    package func revoke(_ request: RevocationRequest) async throws -> RevocationEntry {
        try await revoke(request, on: eventLoopGroup.any()).get()
    }

    package func revokeSubject(_ request: SubjectRevocationRequest) async throws -> Cutoff {
        try await revokeSubject(request, on: eventLoopGroup.any()).get()
    }

    package func entry(issuer: String, jti: String) async throws -> RevocationEntry? {
        try await entry(issuer: issuer, jti: jti, on: eventLoopGroup.any()).get()
    }

    package func subjectCutoff(issuer: String, subject: String) async throws -> Cutoff? {
        try await subjectCutoff(issuer: issuer, subject: subject, on: eventLoopGroup.any()).get()
    }

    package func remove(issuer: String, jti: String) async throws -> Bool {
        try await remove(issuer: issuer, jti: jti, on: eventLoopGroup.any()).get()
    }

    package func removeSubjectCutoff(issuer: String, subject: String) async throws -> Bool {
        try await removeSubjectCutoff(issuer: issuer, subject: subject, on: eventLoopGroup.any()).get()
    }

    package func list(_ query: BlocklistQuery) async throws -> BlocklistPage {
        try await list(query, on: eventLoopGroup.any()).get()
    }

    package func count() async throws -> BlocklistCount {
        try await count(on: eventLoopGroup.any()).get()
    }

    package func ping() async throws {
        try await ping(on: eventLoopGroup.any()).get()
    }
}
