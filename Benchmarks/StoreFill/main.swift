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
        let request = RevocationRequest(
            issuer: issuer, jti: scaleJTI(index), subject: "user-" + padded(index, 7),
            tokenExpiresAt: expiresAt, reason: "logout", actor: "self")
        futures.append(store.revoke(request, on: loop))
    }
    _ = try await EventLoopFuture.whenAllSucceed(futures, on: loop).get()
    written = upper
}
await store.close()
print("wrote \(count) entries in \(started.duration(to: clock.now))")

/// A UUID-shaped jti (36 characters, as most identity providers issue), distinct per index; the same
/// function is in Benchmarks/scale.py for the Redis fill.
func scaleJTI(_ index: Int) -> String {
    let hex = String(UInt64(index) &* 0x9E37_79B9_7F4A_7C15, radix: 16)
    let digits = padded(hex, 16) + padded(String(index, radix: 16), 16)
    let characters = Array(digits)
    return String(characters[0..<8]) + "-" + String(characters[8..<12]) + "-4" + String(characters[13..<16]) + "-8"
        + String(characters[17..<20]) + "-" + String(characters[20..<32])
}

func padded(_ number: Int, _ width: Int) -> String {
    padded(String(number), width)
}

func padded(_ text: String, _ width: Int) -> String {
    String(repeating: "0", count: max(0, width - text.utf8.count)) + text
}
