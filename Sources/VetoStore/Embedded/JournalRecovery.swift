/// What opening the embedded journal found.
public struct JournalRecovery: Sendable, Equatable {
    /// Records read back, in order.
    public var recordsReplayed: Int
    /// Bytes of a torn last record that were cut off; 0 after a clean shutdown.
    public var droppedTailBytes: Int
    /// Sentences for the operator's log, e.g. about a dropped torn record.
    public var warnings: [String]
}
