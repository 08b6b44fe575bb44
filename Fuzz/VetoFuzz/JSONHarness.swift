import VetoCore

/// The JSON reader: never crashes, and whatever it accepts survives a round trip through the
/// writer unchanged (so the value Veto reasons about is the value it prints and stores).
enum JSONHarness {
    static func run(_ bytes: [UInt8]) {
        guard let value = try? JSONReader().parse(bytes) else { return }
        let written = JSONWriter.compact(value)
        guard let again = try? JSONReader().parse(Array(written.utf8)) else {
            violated("the writer produced JSON its reader refuses: \(written)")
        }
        if again != value { violated("round trip changed the value: \(written)") }
        _ = JSONWriter.pretty(value)
    }
}
