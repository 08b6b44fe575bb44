import Foundation
import Testing
import VetoServer

/// The default number of event-loop threads: the affinity mask and the cgroup CPU quota, the smaller
/// of the two; anything unreadable is ignored.
@Suite struct UsableCPUsTests {
    @Test(
        arguments: [
            ("max 100000", nil),
            ("max 100000\n", nil),
            ("50000 100000", 1),
            ("50000 100000\n", 1),
            ("100000 100000", 1),
            ("150000 100000", 2),
            ("200000 100000", 2),
            ("1000 100000", 1),
            ("400000 50000\n", 8)
        ] as [(String, Int?)])
    func cgroupV2CPUMax(text: String, threads: Int?) {
        let threadsFromFile = UsableCPUs.parseCPUMax(text).map { UsableCPUs.Quota(quota: $0.quota, period: $0.period, source: "cpu.max").threads }
        #expect(threadsFromFile == threads)
    }

    @Test(arguments: ["", "\n", "max", "50000", "fifty 100000", "50000 100000 7", "-50000 100000", "50000 0", "0 100000", "50000 -1", "5e4 100000"])
    func garbageInCPUMaxIsIgnored(text: String) {
        #expect(UsableCPUs.parseCPUMax(text) == nil)
    }

    @Test func cgroupV1QuotaAndPeriod() {
        #expect(UsableCPUs.parseCFS(quota: "-1\n", period: "100000\n") == nil)
        #expect(UsableCPUs.parseCFS(quota: "50000\n", period: "100000\n").map { $0.quota } == 50_000)
        #expect(UsableCPUs.parseCFS(quota: "250000", period: "100000").map { $0.period } == 100_000)
        #expect(UsableCPUs.parseCFS(quota: "", period: "100000") == nil)
        #expect(UsableCPUs.parseCFS(quota: "50000", period: "0") == nil)
        #expect(UsableCPUs.parseCFS(quota: "50000 1", period: "100000") == nil)
    }

    @Test func aQuotaBelowOnePeriodIsOneThread() {
        let usable = UsableCPUs(online: 8, affinity: 8, quotas: [.init(quota: 1_000, period: 100_000, source: "/sys/fs/cgroup/cpu.max")])
        #expect(usable.count == 1)
        #expect(usable.reason.hasPrefix("cgroup CPU quota: 1000 µs per 100000 µs = 1"))
    }

    @Test func theSmallerOfAffinityAndQuotaWins() {
        let quota = UsableCPUs.Quota(quota: 300_000, period: 100_000, source: "/sys/fs/cgroup/cpu.max")
        #expect(UsableCPUs(online: 16, affinity: 2, quotas: [quota]).count == 2)
        #expect(UsableCPUs(online: 16, affinity: 8, quotas: [quota]).count == 3)
        #expect(UsableCPUs(online: 16, affinity: 8, quotas: []).count == 8)
        // The tightest of several quotas (a parent's limit applies to its children).
        let parent = UsableCPUs.Quota(quota: 100_000, period: 100_000, source: "/sys/fs/cgroup/cpu.max")
        let usable = UsableCPUs(online: 16, affinity: 8, quotas: [quota, parent])
        #expect(usable.count == 1)
        #expect(usable.quota == parent)
    }

    @Test func withoutAnAffinityMaskTheOnlineCPUsCount() {
        let usable = UsableCPUs(online: 4, affinity: nil, quotas: [])
        #expect(usable.count == 4)
        #expect(usable.reason == "online CPUs: 4 (affinity mask unreadable); no cgroup CPU quota")
        #expect(UsableCPUs(online: 0, affinity: 0, quotas: []).count == 1)
        #expect(UsableCPUs(online: 4, affinity: 1, quotas: []).reason == "affinity mask: 1 of 4 online CPUs; no cgroup CPU quota")
    }

    @Test func theAffinityMaskIsCountedBitByBit() {
        #expect(UsableCPUs.count(affinityMask: [UInt64]()) == 0)
        #expect(UsableCPUs.count(affinityMask: [0b1]) == 1)
        #expect(UsableCPUs.count(affinityMask: [0b1011, 0, 1 << 63]) == 4)
        #expect(UsableCPUs.count(affinityMask: [UInt64.max, UInt64.max]) == 128)
    }

    @Test func theLimitFilesWalkFromTheProcessCgroupUpToTheMount() {
        let procSelfCgroup = """
            12:cpu,cpuacct:/system.slice/veto.service
            4:memory:/system.slice/veto.service
            0::/system.slice/veto.service

            """
        #expect(
            UsableCPUs.limitFiles(procSelfCgroup: procSelfCgroup, mount: "/cg") == [
                .cpuMax("/cg/system.slice/veto.service/cpu.max"), .cpuMax("/cg/system.slice/cpu.max"), .cpuMax("/cg/cpu.max"),
                .cfs(quota: "/cg/cpu/system.slice/veto.service/cpu.cfs_quota_us", period: "/cg/cpu/system.slice/veto.service/cpu.cfs_period_us"),
                .cfs(quota: "/cg/cpu/system.slice/cpu.cfs_quota_us", period: "/cg/cpu/system.slice/cpu.cfs_period_us"),
                .cfs(quota: "/cg/cpu/cpu.cfs_quota_us", period: "/cg/cpu/cpu.cfs_period_us")
            ])
    }

    @Test func aContainerOrAnUnreadableCgroupFileStillLooksAtTheMountRoot() {
        let roots: [UsableCPUs.LimitFile] = [.cpuMax("/cg/cpu.max"), .cfs(quota: "/cg/cpu/cpu.cfs_quota_us", period: "/cg/cpu/cpu.cfs_period_us")]
        #expect(UsableCPUs.limitFiles(procSelfCgroup: "0::/\n", mount: "/cg") == roots)
        #expect(UsableCPUs.limitFiles(procSelfCgroup: "", mount: "/cg") == roots)
        #expect(UsableCPUs.limitFiles(procSelfCgroup: "garbage\n0::relative\n1:cpu:../..\n", mount: "/cg") == roots)
        #expect(UsableCPUs.limitFiles(procSelfCgroup: "0::/../x/./", mount: "/cg").first == .cpuMax("/cg/x/cpu.max"))
    }

    @Test func thisProcessHasAtLeastOneUsableCPU() {
        let usable = UsableCPUs.ofThisProcess()
        #expect(usable.count >= 1)
        #expect(usable.count <= usable.online)
        #expect(usable.affinity != nil, "sched_getaffinity answers on Linux")
    }

    @Test func aQuotaFileUnderTheMountIsReadAndHalfACPUIsOneThread() throws {
        let mount = FileManager.default.temporaryDirectory.appendingPathComponent("veto-cgroup-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: mount.appendingPathComponent("cpu"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: mount) }
        try "50000 100000\n".write(to: mount.appendingPathComponent("cpu.max"), atomically: true, encoding: .utf8)
        try "-1\n".write(to: mount.appendingPathComponent("cpu/cpu.cfs_quota_us"), atomically: true, encoding: .utf8)
        try "100000\n".write(to: mount.appendingPathComponent("cpu/cpu.cfs_period_us"), atomically: true, encoding: .utf8)
        let usable = UsableCPUs.ofThisProcess(cgroupMount: mount.path)
        #expect(usable.count == 1)
        #expect(usable.quota == UsableCPUs.Quota(quota: 50_000, period: 100_000, source: mount.path + "/cpu.max"))
    }
}
