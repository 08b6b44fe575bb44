import Glibc

/// A `flock` on `<data dir>/lock`, held while an ``EmbeddedBlocklist`` is open, so a second process (a
/// CLI next to a running server) cannot write the same journal. The kernel drops the lock when the
/// process dies.
///
/// - `exclusive`: for a writer (`veto serve`, `blocklist add`, `repair`). Creates the file if missing and
///   writes the owner's pid into it for the error message.
/// - `shared`: for a reader (`blocklist ls/show/count`), held only while it reads the journal. Writes
///   nothing and creates nothing: no lock file means no writer has ever opened the directory.
///   Readers exclude writers (and the other way round) but not each other.
final class DataDirectoryLock {
    enum Mode { case exclusive, shared }

    private var descriptor: Int32

    init(directory: String, mode: Mode = .exclusive) throws(StoreError) {
        let path = directory + "/lock"
        let descriptor = mode == .exclusive ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) : open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 && mode == .shared && errno == ENOENT {
            self.descriptor = -1
            return
        }
        guard descriptor >= 0 else { throw Journal.ioError("cannot open \(path)") }
        guard Self.lock(descriptor, mode: mode) else {
            let owner = Self.readOwner(descriptor)
            Glibc.close(descriptor)
            throw StoreError(
                .dataDirectoryLocked,
                "the data dir \(directory) is in use by another process\(owner.map { " (pid \($0))" } ?? ""): "
                    + "stop it, or revoke through the running server's admin API"
            )
        }
        if mode == .exclusive {
            let pid = Array("\(getpid())\n".utf8)
            _ = ftruncate(descriptor, 0)
            _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        }
        self.descriptor = descriptor
    }

    deinit { release() }

    /// Takes the lock without waiting, except when the holder's pid is this process's: a thread of this
    /// process spawning a child (redis-server in tests, a shell) lends the child every descriptor until
    /// its exec closes them, so a lock this process has just released can look held for microseconds.
    private static func lock(_ descriptor: Int32, mode: Mode) -> Bool {
        let operation = (mode == .exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB
        for _ in 0..<50 {
            if flock(descriptor, operation) == 0 { return true }
            guard readOwner(descriptor) == Int(getpid()) else { return false }
            usleep(2_000)
        }
        return false
    }

    func release() {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)  // closing the descriptor drops the flock
        descriptor = -1
    }

    private static func readOwner(_ descriptor: Int32) -> Int? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int(String(decoding: buffer[..<count], as: UTF8.self).trimmingSuffix(while: { $0 == "\n" }))
    }
}

extension String {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var text = self[...]
        while let last = text.last, predicate(last) { text = text.dropLast() }
        return text
    }
}
