/// How many CPUs this process may keep busy at once: the default number of event-loop threads.
///
/// The smaller of two limits, each ignored when it is absent or unreadable:
/// - the affinity mask (`sched_getaffinity`: `taskset`, `docker --cpuset-cpus`, systemd's `CPUAffinity=`);
/// - the CPU bandwidth quota of the process's cgroup or of any ancestor (v2 `cpu.max`, v1
///   `cpu.cfs_quota_us` over `cpu.cfs_period_us`; `docker --cpus`, Kubernetes CPU limits), rounded
///   up: 0.5 CPU is 1 thread, 1.5 CPUs are 2.
/// With neither, the online CPUs. More threads than usable CPUs only take turns on them: each loop
/// then waits for the quota or the core, with connections pinned to it.
///
/// The parsing and the decision are here; reading the kernel's files is in `UsableCPUs+System.swift`.
package struct UsableCPUs: Sendable, Equatable {
    /// A CFS bandwidth limit: `quota` µs of CPU time in every `period` µs.
    package struct Quota: Sendable, Equatable {
        package var quota: Int
        package var period: Int
        /// The file it was read from (`cpu.max` or `cpu.cfs_quota_us`).
        package var source: String

        package init(quota: Int, period: Int, source: String) {
            self.quota = quota
            self.period = period
            self.source = source
        }

        /// Whole threads this quota keeps busy: rounded up, at least 1.
        package var threads: Int { max(1, quota / period + (quota % period == 0 ? 0 : 1)) }
    }

    /// Where a cgroup's bandwidth limit may be, for one directory of the hierarchy.
    package enum LimitFile: Sendable, Equatable {
        /// cgroup v2: `cpu.max`.
        case cpuMax(String)
        /// cgroup v1: `cpu.cfs_quota_us` and `cpu.cfs_period_us`.
        case cfs(quota: String, period: String)
    }

    /// The chosen number of threads, at least 1.
    package let count: Int
    /// CPUs online (`_SC_NPROCESSORS_ONLN`).
    package let online: Int
    /// CPUs in the affinity mask; nil when it could not be read.
    package let affinity: Int?
    /// The tightest bandwidth limit found; nil when there is none.
    package let quota: Quota?

    package init(online: Int, affinity: Int?, quotas: [Quota]) {
        self.online = max(1, online)
        self.affinity = affinity.flatMap { $0 > 0 ? $0 : nil }
        self.quota = quotas.min { $0.threads < $1.threads }
        self.count = max(1, min(self.affinity ?? self.online, quota?.threads ?? Int.max))
    }

    /// Why ``count``, for the start-up log: which limit decided, with its numbers.
    package var reason: String {
        let cpus = affinity.map { "affinity mask: \($0) of \(online) online CPUs" } ?? "online CPUs: \(online) (affinity mask unreadable)"
        guard let quota else { return cpus + "; no cgroup CPU quota" }
        let limit = "cgroup CPU quota: \(quota.quota) µs per \(quota.period) µs = \(quota.threads) (\(quota.source))"
        return quota.threads < (affinity ?? online) ? limit + "; " + cpus : cpus + "; " + limit
    }

    /// Parses cgroup v2's `cpu.max`: `"$MAX $PERIOD"`. nil for `max` (no limit) and for anything but
    /// two positive integers.
    package static func parseCPUMax(_ text: String) -> (quota: Int, period: Int)? {
        let fields = words(text)
        guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]), quota > 0, period > 0 else { return nil }
        return (quota, period)
    }

    /// Parses cgroup v1's `cpu.cfs_quota_us` and `cpu.cfs_period_us`. nil for a quota of -1 (no limit)
    /// and for anything but positive integers.
    package static func parseCFS(quota: String, period: String) -> (quota: Int, period: Int)? {
        let (quotaFields, periodFields) = (words(quota), words(period))
        guard quotaFields.count == 1, periodFields.count == 1, let quota = Int(quotaFields[0]), let period = Int(periodFields[0]), quota > 0,
            period > 0
        else { return nil }
        return (quota, period)
    }

    private static func words(_ text: String) -> [Substring] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
    }

    /// CPUs in an affinity mask (glibc's `CPU_COUNT` is a macro Swift cannot call).
    package static func count(affinityMask words: some Sequence<UInt64>) -> Int {
        words.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    /// The files that may limit this process's CPU bandwidth, given `/proc/self/cgroup`: for its
    /// cgroup v2 path and its v1 `cpu` controller path, that cgroup's directory and each ancestor up to
    /// the mount (a parent's limit applies to its children; in a container with its own cgroup namespace
    /// the path is `/` and the mount's root is the container's cgroup). The mount roots are always
    /// listed, even when `/proc/self/cgroup` is unreadable.
    package static func limitFiles(procSelfCgroup: String, mount: String = "/sys/fs/cgroup") -> [LimitFile] {
        var v2Path = "/"
        var v1Path = "/"
        for line in procSelfCgroup.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[2].hasPrefix("/") else { continue }
            if parts[0] == "0" && parts[1].isEmpty {
                v2Path = String(parts[2])
            } else if parts[1].split(separator: ",").contains("cpu") {
                v1Path = String(parts[2])
            }
        }
        let v1Mount = mount + "/cpu"
        return directories(mount: mount, path: v2Path).map { .cpuMax($0 + "/cpu.max") }
            + directories(mount: v1Mount, path: v1Path).map { .cfs(quota: $0 + "/cpu.cfs_quota_us", period: $0 + "/cpu.cfs_period_us") }
    }

    /// `mount` + `path`, then each ancestor up to `mount`; `..` and `.` components are dropped.
    private static func directories(mount: String, path: String) -> [String] {
        var components = path.split(separator: "/").filter { $0 != ".." && $0 != "." }
        var result: [String] = []
        while !components.isEmpty {
            result.append(mount + "/" + components.joined(separator: "/"))
            components.removeLast()
        }
        result.append(mount)
        return result
    }
}
