// swift-tools-version:6.1
import PackageDescription

/// Strict settings for every Starling target. Swift 6 language mode already
/// enforces complete concurrency checking; CI adds `-warnings-as-errors`
/// through the Makefile so that local builds stay quick to iterate on.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Starling",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Starling", targets: ["Starling"]),
        .library(name: "StarlingCore", targets: ["StarlingCore"]),
        .library(name: "StarlingIO", targets: ["StarlingIO"]),
        .library(name: "StarlingSim", targets: ["StarlingSim"]),
        .executable(name: "starling", targets: ["starling"]),
        // libFuzzer targets: `make fuzz` builds this with `-sanitize=fuzzer,address`.
        .executable(name: "starling-fuzz", targets: ["StarlingFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // `make docs`: the DocC catalog of the Starling module.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(
            name: "StarlingCore",
            dependencies: [
                "CSodium",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "StarlingSim",
            dependencies: [
                "StarlingCore",
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "StarlingIO",
            dependencies: [
                "StarlingCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Starling",
            dependencies: [
                "StarlingCore", "StarlingIO",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "starling",
            dependencies: [
                "CSodium",
                "Starling",
                "StarlingCore",
                "StarlingIO",
                "StarlingSim",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Demos/starling",
            swiftSettings: strict
        ),
        // Every fuzz target in one executable: a corpus maker and replayer in a normal
        // build, a libFuzzer binary when built with -DSTARLING_LIBFUZZER (see Fuzz/README.md).
        .systemLibrary(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .executableTarget(
            name: "StarlingFuzz",
            dependencies: ["StarlingCore", "CLibFuzzer"],
            path: "Fuzz/StarlingFuzz",
            swiftSettings: strict
        ),
        .target(
            name: "StarlingTestSupport",
            path: "Tests/StarlingTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "StarlingCoreTests",
            dependencies: ["StarlingCore", "CSodium", "StarlingTestSupport"],
            exclude: ["Resources"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StarlingSimTests",
            dependencies: ["StarlingSim", "StarlingCore", "StarlingTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StarlingIOTests",
            dependencies: [
                "StarlingIO", "StarlingCore", "StarlingTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StarlingTests",
            dependencies: [
                "Starling", "StarlingCore", "StarlingIO", "StarlingTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StarlingCLITests",
            dependencies: ["StarlingTestSupport"],
            swiftSettings: strict
        ),
    ]
)
