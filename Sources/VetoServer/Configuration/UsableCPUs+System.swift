import CVetoSystem
import Glibc

extension UsableCPUs {
    /// The CPUs this process may use, read from the kernel: the affinity mask of the calling thread
    /// (`taskset` and container runtimes set it before `exec`, and every thread inherits it from the
    /// one that started it) and the cgroup files. Blocking reads of a few small files: for start-up only.
    package static func ofThisProcess(cgroupMount: String = "/sys/fs/cgroup") -> UsableCPUs {
        var quotas: [Quota] = []
        for file in limitFiles(procSelfCgroup: readSmallFile("/proc/self/cgroup") ?? "", mount: cgroupMount) {
            switch file {
            case .cpuMax(let path):
                if let limit = readSmallFile(path).flatMap(parseCPUMax) {
                    quotas.append(Quota(quota: limit.quota, period: limit.period, source: path))
                }
            case .cfs(let quotaPath, let periodPath):
                if let quota = readSmallFile(quotaPath), let period = readSmallFile(periodPath),
                    let limit = parseCFS(quota: quota, period: period)
                {
                    quotas.append(Quota(quota: limit.quota, period: limit.period, source: quotaPath))
                }
            }
        }
        return UsableCPUs(online: sysconf(Int32(_SC_NPROCESSORS_ONLN)), affinity: affinityCount(), quotas: quotas)
    }

    /// CPUs in the calling thread's affinity mask; nil if the kernel will not say. The mask starts at
    /// 1,024 CPUs (glibc's `cpu_set_t`) and doubles while the kernel's is larger (EINVAL).
    static func affinityCount() -> Int? {
        var words = 16
        while words <= 1 << 14 {
            var mask = [UInt64](repeating: 0, count: words)
            let result = mask.withUnsafeMutableBytes { CVetoSystem_sched_getaffinity($0.count, $0.baseAddress) }
            if result == 0 { return count(affinityMask: mask) }
            guard errno == EINVAL else { return nil }
            words *= 2
        }
        return nil
    }

    /// The first 4 KiB of a file; nil when it cannot be opened or read. cgroup and proc files report
    /// no size, so this reads until end of file rather than trusting `stat`.
    static func readSmallFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 4096 {
            let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, 4096 - bytes.count) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { return nil }
            if got == 0 { break }
            bytes += chunk[..<got]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
