// Fills an embedded blocklist for `Scripts/bench --scale`: COUNT token entries written through the
// store's own API (journal records, group commit, fdatasync), so the journal is what a server would
// have written. Part of the benchmark, not of Veto: the `veto` executable does not depend on it.
//
// Usage: veto-bench-fill DATA_DIR ISSUER COUNT
import Glibc
import NIOCore
import NIOPosix
import VetoStore

let arguments = CommandLine.arguments
guard arguments.count == 4, let count = Int(arguments[3]), count >= 0 else {
    print("usage: veto-bench-fill DATA_DIR ISSUER COUNT")
    exit(2)
}
let issuer = arguments[2]
let group = MultiThreadedEventLoopGroup.singleton
let loop = group.next()
let clock = ContinuousClock()
let started = clock.now
let store = try await EmbeddedBlocklist.open(directory: arguments[1], eventLoopGroup: group)
var spec = timespec()
clock_gettime(CLOCK_REALTIME, &spec)
let expiresAt = Double(spec.tv_sec) + 86_400
let batch = 20_000
var written = 0
while written < count {
    let upper = min(count, written + batch)
    var futures: [EventLoopFuture<RevocationEntry>] = []
    futures.reserveCapacity(upper - written)
    for index in written..<upper {
        let number = String(index)
        let padded = String(repeating: "0", count: max(0, 7 - number.utf8.count)) + number
        let request = RevocationRequest(issuer: issuer, jti: "scale-" + padded, subject: "user-" + padded,
                                        tokenExpiresAt: expiresAt, reason: "scale", actor: "bench")
        futures.append(store.revoke(request, on: loop))
    }
    _ = try await EventLoopFuture.whenAllSucceed(futures, on: loop).get()
    written = upper
}
await store.close()
print("wrote \(count) entries in \(started.duration(to: clock.now))")
