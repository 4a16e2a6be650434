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

// Products of the packages above, named once.
let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let hummingbirdTesting = Target.Dependency.product(name: "HummingbirdTesting", package: "hummingbird")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let nioFileSystem = Target.Dependency.product(name: "_NIOFileSystem", package: "swift-nio")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let serviceLifecycleTestKit = Target.Dependency.product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle")
let asyncHTTPClient = Target.Dependency.product(name: "AsyncHTTPClient", package: "async-http-client")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let asyncAlgorithms = Target.Dependency.product(name: "AsyncAlgorithms", package: "swift-async-algorithms")
let httpTypes = Target.Dependency.product(name: "HTTPTypes", package: "swift-http-types")
let configuration = Target.Dependency.product(name: "Configuration", package: "swift-configuration")

// The targets and what each may import are described in the README's "Code map".
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
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The loader reads gzip input and fingerprints its checkpoints (crc32) with the system zlib.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The wire contract: JSON types, limits, validation, ids and dates. Every program
        // and test speaks it; it carries no server or client framework.
        .target(name: "SentenceWire", dependencies: [nioCore, httpTypes], swiftSettings: swiftSettings),
        // What the node and the balancer share as HTTP servers.
        .target(
            name: "ServerSupport",
            dependencies: ["SentenceWire", hummingbird, argumentParser, logging, nioCore, serviceLifecycle],
            swiftSettings: swiftSettings
        ),
        // What the balancer, the loader and the test harness share as HTTP clients.
        .target(name: "ClientSupport", dependencies: [asyncHTTPClient, nioCore, nioPosix], swiftSettings: swiftSettings),
        // How every command resolves its settings: flag, environment, file, default.
        .target(name: "SettingsSupport", dependencies: [argumentParser, configuration], swiftSettings: swiftSettings),
        .executableTarget(
            name: "Node",
            dependencies: [
                "CSQLite", "SentenceWire", "ServerSupport", "SettingsSupport", "ClientSupport",
                hummingbird, asyncHTTPClient, argumentParser, logging, nioCore, nioHTTP1, nioPosix, serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Balancer",
            dependencies: [
                "SentenceWire", "ServerSupport", "ClientSupport", "SettingsSupport",
                hummingbird, asyncHTTPClient, argumentParser, logging, metrics, prometheus, nioCore, nioPosix, nioHTTP1, serviceLifecycle,
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
                "CZlib", "SentenceWire", "ClientSupport", "SettingsSupport",
                asyncHTTPClient, argumentParser, asyncAlgorithms, nioCore, nioFileSystem, nioPosix, nioHTTP1,
            ],
            swiftSettings: swiftSettings
        ),
        // Test support: servers and processes on loopback, a small HTTP client, fixtures.
        .target(
            name: "Harness",
            dependencies: [
                "SentenceWire", "ClientSupport", "ServerSupport",
                hummingbird, asyncHTTPClient, serviceLifecycle, nioCore, nioHTTP1,
            ],
            path: "Tests/Harness",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BalancerTests",
            dependencies: [
                "Balancer", "Node", "Harness", "SentenceWire", "ClientSupport", "SettingsSupport",
                hummingbirdTesting, asyncHTTPClient, argumentParser, logging,
            ],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(name: "LoaderTests", dependencies: ["Loader", "Harness", "SentenceWire", "CZlib"], swiftSettings: testSwiftSettings),
        .testTarget(
            name: "NodeTests",
            dependencies: [
                "Node", "Harness", "SentenceWire", "ServerSupport", "ClientSupport", "SettingsSupport",
                hummingbirdTesting, asyncHTTPClient, argumentParser, logging,
            ],
            swiftSettings: testSwiftSettings
        ),
        // Real processes under faults; run on their own by `make fault-test` (serialized,
        // after the other suites), so their timing does not compete with them.
        .testTarget(name: "FaultTests", dependencies: ["Harness", "Loader", "SentenceWire", "CSQLite"], swiftSettings: testSwiftSettings),
        .testTarget(name: "SentenceWireTests", dependencies: ["SentenceWire"], swiftSettings: testSwiftSettings),
        .testTarget(
            name: "ServerSupportTests",
            dependencies: ["ServerSupport", hummingbird, serviceLifecycle, serviceLifecycleTestKit],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(name: "SettingsSupportTests", dependencies: ["SettingsSupport"], swiftSettings: testSwiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
