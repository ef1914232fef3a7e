// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "fairway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fairway-management", targets: ["fairway-management"]),
        .executable(name: "fairway-relay", targets: ["fairway-relay"]),
        .executable(name: "fairway-aggregator", targets: ["fairway-aggregator"]),
        .executable(name: "fairway-mock-upstream", targets: ["fairway-mock-upstream"]),
        .executable(name: "fairway", targets: ["fairway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // OTLP/HTTP only: the gRPC exporter would add gRPC and its code generator to every build.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // MARK: Shared libraries
        .systemLibrary(
            name: "CHiredis",
            path: "Shared/CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(
            name: "FairwayCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Shared/FairwayCore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FairwayJSON",
            path: "Shared/FairwayJSON",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FairwayRedis",
            dependencies: [
                "CHiredis",
                "FairwayCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/FairwayRedis",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FairwayPostgres",
            dependencies: [
                "FairwayCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/FairwayPostgres",
            swiftSettings: swiftSettings,
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "FairShare",
            dependencies: ["FairwayCore", "FairwayRedis"],
            path: "Shared/FairShare",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FairwayRuntime",
            dependencies: [
                "FairwayCore", "FairwayPostgres", "FairwayRedis",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/FairwayRuntime",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "MigrationEmbedder",
            path: "Shared/MigrationEmbedder",
            swiftSettings: swiftSettings
        ),
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["MigrationEmbedder"],
            path: "Shared/EmbedMigrations"
        ),

        // MARK: Services
        .target(
            name: "Management",
            dependencies: [
                "FairShare", "FairwayCore", "FairwayJSON", "FairwayPostgres", "FairwayRedis", "FairwayRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            path: "Services/Management/Sources",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fairway-management",
            dependencies: ["Management"],
            path: "Services/Management/Main",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Relay",
            dependencies: [
                "FairShare", "FairwayCore", "FairwayJSON", "FairwayPostgres", "FairwayRedis", "FairwayRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            path: "Services/Relay/Sources",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fairway-relay",
            dependencies: ["Relay", "FairwayRuntime"],
            path: "Services/Relay/Main",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Aggregator",
            dependencies: [
                "FairwayCore", "FairwayPostgres", "FairwayRedis", "FairwayRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/Aggregator/Sources",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fairway-aggregator",
            dependencies: ["Aggregator"],
            path: "Services/Aggregator/Main",
            swiftSettings: swiftSettings
        ),

        // MARK: Tools
        .executableTarget(
            name: "fairway-mock-upstream",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tools/MockUpstream",
            swiftSettings: swiftSettings
        ),

        // MARK: Operator tools
        .target(
            name: "FairwayCLI",
            dependencies: [
                "FairwayJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tools/FairwayCLI/Sources",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fairway",
            dependencies: ["FairwayCLI"],
            path: "Tools/FairwayCLI/Main",
            swiftSettings: swiftSettings
        ),

        // MARK: Benchmarks
        .executableTarget(
            name: "fairway-bench-ingest",
            dependencies: [
                "Aggregator", "FairwayCore", "FairwayPostgres", "FairwayRedis", "FairwayTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "bench/IngestBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fairway-bench-floor",
            dependencies: [
                "FairwayRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "bench/ProxyFloor",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fairway-bench-openloop",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "bench/OpenLoop",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .target(
            name: "FairwayTestSupport",
            dependencies: [
                "FairwayCore", "FairwayPostgres", "FairwayRedis",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/FairwayTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["FairwayCLI", "FairwayJSON", "FairwayTestSupport"],
            path: "Tests/CLITests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FairShareTests",
            dependencies: ["FairShare"],
            path: "Tests/FairShareTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FairwayCoreTests",
            dependencies: ["FairwayCore"],
            path: "Tests/FairwayCoreTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FairwayRedisTests",
            dependencies: ["FairwayRedis", "FairwayTestSupport"],
            path: "Tests/FairwayRedisTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FairwayPostgresTests",
            dependencies: ["FairwayPostgres", "FairwayTestSupport"],
            path: "Tests/FairwayPostgresTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ManagementTests",
            dependencies: [
                "Management", "FairwayRuntime", "FairwayTestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/ManagementTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AggregatorTests",
            dependencies: [
                "Aggregator", "FairwayTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/AggregatorTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RelayTests",
            dependencies: [
                "Relay", "FairShare", "FairwayTestSupport", "FairwayPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/RelayTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServiceBootTests",
            dependencies: [
                "FairwayTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Tests/ServiceBootTests",
            swiftSettings: swiftSettings
        ),
    ]
)
