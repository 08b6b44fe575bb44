import Glibc

/// An exclusive `flock` on `<data dir>/lock`, held while an ``EmbeddedBlocklist`` is open, so a second
/// process (a CLI next to a running server) cannot write the same journal. The file holds the owner's
/// pid for the error message; the kernel drops the lock when the process dies.
final class DataDirectoryLock {
    private var descriptor: Int32

    init(directory: String) throws(StoreError) {
        let path = directory + "/lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Journal.ioError("cannot open \(path)") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let owner = Self.readOwner(descriptor)
            Glibc.close(descriptor)
            throw StoreError(
                .dataDirectoryLocked,
                "the data dir \(directory) is in use by another process\(owner.map { " (pid \($0))" } ?? ""): "
                    + "stop it, or revoke through the running server's admin API"
            )
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        self.descriptor = descriptor
    }

    deinit { release() }

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
