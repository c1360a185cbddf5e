// swift-tools-version:6.1
import PackageDescription

/// The same strict settings as the Starling package's targets.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// An example app: a Hummingbird HTTP service that embeds a Starling peer on the same
// event loop group and shows its overlay neighbours. A package of its own, so that the
// Starling package's build and `make test` never compile Hummingbird.
let package = Package(
    name: "starling-neighbours",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "starling-neighbours", targets: ["starling-neighbours"])
    ],
    dependencies: [
        .package(name: "Starling", path: "../.."),
        // No default traits: the app needs neither swift-configuration nor full Foundation.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    ],
    targets: [
        .target(
            name: "NeighboursApp",
            dependencies: [
                .product(name: "Starling", package: "Starling"),
                .product(name: "StarlingCore", package: "Starling"),
                .product(name: "StarlingIO", package: "Starling"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "starling-neighbours",
            dependencies: [
                "NeighboursApp",
                .product(name: "StarlingCore", package: "Starling"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NeighboursAppTests",
            dependencies: [
                "NeighboursApp",
                .product(name: "Starling", package: "Starling"),
                .product(name: "StarlingCore", package: "Starling"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
