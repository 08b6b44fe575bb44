import CFuzzEntry
import Glibc

/// libFuzzer's entry point. One binary holds every harness, so the fuzz build links once; the
/// harness is chosen by `VETO_FUZZ_TARGET` (Scripts/fuzz sets it). libFuzzer provides `main`:
/// this module is compiled with `-parse-as-library` and has none.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = count > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: count)) : []
    FuzzTarget.selected.run(bytes)
    return 0
}

enum FuzzTarget: String, CaseIterable {
    case token, json, jwk, pem, resp

    static let selected: FuzzTarget = {
        let name = getenv("VETO_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            printError("VETO_FUZZ_TARGET must be one of \(allCases.map(\.rawValue)); got \"\(name)\"")
            exit(2)
        }
        return target
    }()

    func run(_ bytes: [UInt8]) {
        switch self {
        case .token: TokenHarness.run(bytes)
        case .json: JSONHarness.run(bytes)
        case .jwk: KeyFileHarness.run(bytes)
        case .pem: PEMHarness.run(bytes)
        case .resp: RESPHarness.run(bytes)
        }
    }
}

/// A property violation: crash loudly so libFuzzer saves the input.
func violated(_ message: @autoclosure () -> String) -> Never {
    printError("property violated: \(message())")
    abort()
}

/// Writes a line to standard error (file descriptor 2; the C `stderr` global is not concurrency-safe).
func printError(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
