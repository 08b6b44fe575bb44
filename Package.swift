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
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "veto", targets: ["veto"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // C libraries from Debian, behind `internal import` in the modules that use them.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // Pure Swift, no I/O, no C, no Foundation.
        .target(name: "VetoCore", swiftSettings: swiftSettings),
        .target(name: "VetoCrypto", dependencies: ["VetoCore", "COpenSSL"], swiftSettings: swiftSettings),
        .target(
            name: "VetoCLI",
            dependencies: [
                "VetoCore", "VetoCrypto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "veto", dependencies: ["VetoCLI"], swiftSettings: swiftSettings),

        .testTarget(name: "VetoCoreTests", dependencies: ["VetoCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "VetoCryptoTests",
            dependencies: ["VetoCore", "VetoCrypto"],
            resources: [.copy("Vectors")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "VetoValidationTests", dependencies: ["VetoCore", "VetoCrypto"], swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
