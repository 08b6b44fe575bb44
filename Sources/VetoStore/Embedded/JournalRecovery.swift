/// What opening the embedded journal found.
package struct JournalRecovery: Sendable, Equatable {
    /// Records read back, in order.
    package var recordsReplayed: Int
    /// Bytes of a torn last record that were cut off; 0 after a clean shutdown.
    package var droppedTailBytes: Int
    /// Sentences for the operator's log, e.g. about a dropped torn record.
    package var warnings: [String]
}
