// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]
// Tests import what they use through the modules under test.
let testSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "sentence-store",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "node", targets: ["Node"]),
        .executable(name: "balancer", targets: ["Balancer"]),
        .executable(name: "loader", targets: ["Loader"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // The wire contract: JSON types, limits, validation, ids and dates. Every program
        // and test speaks it; it carries no server or client framework.
        .target(
            name: "SentenceWire",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the node and the balancer share as HTTP servers: the router set-up, error
        // replies, request bodies, start-up and periodic background work.
        .target(
            name: "ServerSupport",
            dependencies: [
                "SentenceWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the balancer, the loader and the test harness share as HTTP clients.
        .target(
            name: "ClientSupport",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // How every command resolves its settings: flag, environment, file, default.
        .target(
            name: "SettingsSupport",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Node",
            dependencies: [
                "CSQLite",
                "SentenceWire",
                "ServerSupport",
                "SettingsSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Balancer",
            dependencies: [
                "SentenceWire",
                "ServerSupport",
                "ClientSupport",
                "SettingsSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The dashboard is compiled into the binary: `swift run` and the Docker image
            // need no files beside it.
            resources: [
                .embedInCode("Dashboard/index.html"),
                .embedInCode("Dashboard/dashboard.css"),
                .embedInCode("Dashboard/dashboard.js"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Loader",
            dependencies: [
                "SentenceWire",
                "ClientSupport",
                "SettingsSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Harness",
            dependencies: [
                "SentenceWire",
                "ClientSupport",
                "ServerSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/Harness",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BalancerTests",
            dependencies: [
                "Balancer",
                "Node",
                "Harness",
                "SentenceWire",
                "ClientSupport",
                "SettingsSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "LoaderTests",
            dependencies: [
                "Loader",
                "Harness",
                "SentenceWire",
            ],
            swiftSettings: testSwiftSettings
        ),
        // Real processes under faults; run on their own by `make fault-test` (serialized,
        // after the other suites), so their timing does not compete with them.
        .testTarget(
            name: "FaultTests",
            dependencies: ["Harness", "Loader", "SentenceWire", "CSQLite"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(name: "SentenceWireTests", dependencies: ["SentenceWire"], swiftSettings: testSwiftSettings),
        .testTarget(
            name: "ServerSupportTests",
            dependencies: [
                "ServerSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(name: "SettingsSupportTests", dependencies: ["SettingsSupport"], swiftSettings: testSwiftSettings),
        .testTarget(
            name: "NodeTests",
            dependencies: [
                "Node",
                "Harness",
                "SentenceWire",
                "SettingsSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: testSwiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
