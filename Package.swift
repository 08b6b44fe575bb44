// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    // SE-0335: spell out `any` for existentials, so their cost is visible.
    .enableUpcomingFeature("ExistentialAny"),
    // SE-0444: a file sees only the modules it imports itself.
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "veto",
    platforms: [.macOS(.v15)],  // Synchronization (Atomic, Mutex) needs macOS 15
    products: [
        .executable(name: "veto", targets: ["veto"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
    ],
    targets: [
        // C libraries from Debian, behind `internal import` in the modules that use them.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        // Glibc calls Swift's Glibc module does not declare (they need _GNU_SOURCE): sched_getaffinity.
        .target(name: "CVetoSystem"),

        // Pure Swift, no I/O, no C, no Foundation.
        .target(name: "VetoCore", swiftSettings: swiftSettings),
        .target(name: "VetoCrypto", dependencies: ["VetoCore", "COpenSSL"], swiftSettings: swiftSettings),
        .target(
            name: "VetoRedis",
            dependencies: [
                "CHiredis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VetoStore",
            dependencies: [
                "VetoCore", "VetoRedis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["KEYS.md"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VetoServer",
            dependencies: [
                "VetoCore", "VetoCrypto", "VetoStore", "VetoRedis", "CVetoSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            // Compiled in as byte arrays (`PackageResources`): the binary serves them with no files beside it.
            resources: [.embedInCode("Documents/openapi.yaml"), .embedInCode("Documents/decoder.html")],
            swiftSettings: swiftSettings
        ),
        // The gRPC ext_authz front door (envoy.service.auth.v3.Authorization) and grpc.health.v1, on the
        // data plane's engine: a unary gRPC server on swift-nio-http2. Message code in Generated/
        // (Scripts/generate-grpc), from Protos/.
        .target(
            name: "VetoGRPC",
            dependencies: [
                "VetoServer",
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Protos"],
            swiftSettings: swiftSettings
        ),
        // The identity-provider receivers: OIDC Back-Channel Logout and Shared Signals (SSF, CAEP, RISC),
        // as a service add-on of VetoServer (control-plane routes and background services).
        .target(
            name: "VetoSignals",
            dependencies: [
                "VetoCore", "VetoCrypto", "VetoStore", "VetoServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VetoCLI",
            dependencies: [
                "VetoCore", "VetoCrypto", "VetoStore", "VetoServer", "VetoRedis", "VetoGRPC", "VetoSignals",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "veto", dependencies: ["VetoCLI"], swiftSettings: swiftSettings),

        // Test helpers shared by test targets (a real redis-server per test).
        .target(name: "VetoTestSupport", path: "Tests/VetoTestSupport", swiftSettings: swiftSettings),

        // Scripts/bench helpers, not part of Veto (`veto` depends on neither): the HTTP ceiling (a raw
        // SwiftNIO hello server built with the same NIO as Veto) and the filler for --scale.
        .executableTarget(
            name: "veto-bench-hello",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/HelloServer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "veto-bench-fill",
            dependencies: ["VetoStore", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            path: "Benchmarks/StoreFill",
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "VetoCoreTests", dependencies: ["VetoCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "VetoCryptoTests",
            dependencies: ["VetoCore", "VetoCrypto", "COpenSSL"],
            resources: [.copy("Vectors")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "VetoValidationTests", dependencies: ["VetoCore", "VetoCrypto"], swiftSettings: swiftSettings),
        .testTarget(
            name: "VetoRedisTests",
            dependencies: [
                "VetoRedis", "VetoTestSupport", "CHiredis",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VetoStoreTests",
            dependencies: [
                "VetoCore", "VetoRedis", "VetoStore", "VetoTestSupport",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VetoServerTests",
            dependencies: [
                "VetoServer", "VetoStore", "VetoCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VetoServerKeysTests",
            dependencies: [
                "VetoServer", "VetoCore", "VetoCrypto", "VetoRedis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The gRPC front door: framing, the request reader and response writer (against the generated
        // messages), the connection's state machine, and its handler on an EmbeddedChannel.
        .testTarget(
            name: "VetoGRPCTests",
            dependencies: [
                "VetoGRPC", "VetoServer", "VetoStore", "VetoCore",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The control plane's routes through Hummingbird's router test framework, on a real journal store.
        .testTarget(
            name: "VetoControlPlaneTests",
            dependencies: [
                "VetoServer", "VetoCore", "VetoCrypto", "VetoStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VetoSignalsTests",
            dependencies: [
                "VetoSignals", "VetoServer", "VetoCore", "VetoCrypto", "VetoStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Fuzzing (Fuzz/README.md): libFuzzer harnesses, built only by Scripts/fuzz, which sets VETO_FUZZ=1,
// its own scratch path and `-sanitize=fuzzer,address -parse-as-library`. Normal builds never see
// this target: it has no `main` of its own (libFuzzer provides it).
if Context.environment["VETO_FUZZ"] != nil {
    package.products.append(.executable(name: "veto-fuzz", targets: ["VetoFuzz"]))
    package.targets += [
        .target(name: "CFuzzEntry", path: "Fuzz/CFuzzEntry"),
        .executableTarget(
            name: "VetoFuzz",
            dependencies: ["CFuzzEntry", "VetoCore", "VetoCrypto", "VetoRedis", .product(name: "NIOCore", package: "swift-nio")],
            path: "Fuzz/VetoFuzz",
            swiftSettings: swiftSettings
        ),
    ]
}
