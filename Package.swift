// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Sprig",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Sprig", targets: ["Sprig"]),
        .library(name: "PythonBridge", targets: ["PythonBridge"]),
        .executable(name: "sprig", targets: ["SprigCLI"]),
        .executable(name: "multiply", targets: ["multiply"]),
        .executable(name: "echo-hello", targets: ["echo-hello"]),
        .executable(name: "random-numbers", targets: ["random-numbers"]),
        .executable(name: "mixed-pipeline", targets: ["mixed-pipeline"]),
        .executable(name: "htex-local", targets: ["htex-local"]),
        .executable(name: "cpu-speedup", targets: ["cpu-speedup"]),
        .executable(name: "ssh-cluster", targets: ["ssh-cluster"]),
        .executable(name: "slurm-cluster", targets: ["slurm-cluster"]),
        .executable(name: "sprig-bench", targets: ["sprig-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // SwiftPM reads python3-embed.pc: the include path and -lpython3.X come from there.
        .systemLibrary(
            name: "CPython",
            path: "Sources/CPython",
            pkgConfig: "python3-embed",
            providers: [.apt(["libpython3-dev"])]
        ),
        // Linux calls Swift's Glibc module leaves out (they need _GNU_SOURCE): pipe2, F_SETPIPE_SZ.
        .target(name: "CPOSIX", path: "Sources/CPOSIX", publicHeadersPath: "include"),
        // The system SQLite, for the monitoring database and the checkpoint store (Sources/Sprig/Storage).
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // The system OpenSSL: the engine terminates connect-back TLS itself (Sources/Sprig/Providers/ConnectBack).
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "PythonBridge", dependencies: ["CPython"], swiftSettings: strict),
        .target(
            name: "Sprig",
            dependencies: ["PythonBridge", "CPOSIX", "CSQLite", "COpenSSL", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict,
            plugins: ["EmbedPython"]
        ),
        // Builds python/sprig into the library, so that a built program needs no checkout.
        .executableTarget(name: "sprig-embed", path: "Sources/SprigEmbed", swiftSettings: strict),
        .plugin(name: "EmbedPython", capability: .buildTool(), dependencies: ["sprig-embed"]),
        .executableTarget(
            name: "SprigCLI",
            dependencies: ["Sprig", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        .executableTarget(name: "multiply", dependencies: ["Sprig"], path: "Examples/multiply", swiftSettings: strict),
        .executableTarget(name: "echo-hello", dependencies: ["Sprig"], path: "Examples/echo-hello", swiftSettings: strict),
        .executableTarget(name: "random-numbers", dependencies: ["Sprig"], path: "Examples/random-numbers", swiftSettings: strict),
        .executableTarget(name: "mixed-pipeline", dependencies: ["Sprig"], path: "Examples/mixed-pipeline", swiftSettings: strict),
        .executableTarget(name: "htex-local", dependencies: ["Sprig"], path: "Examples/htex-local", swiftSettings: strict),
        .executableTarget(name: "cpu-speedup", dependencies: ["Sprig"], path: "Examples/cpu-speedup", swiftSettings: strict),
        .executableTarget(name: "ssh-cluster", dependencies: ["Sprig"], path: "Examples/ssh-cluster", swiftSettings: strict),
        .executableTarget(name: "slurm-cluster", dependencies: ["Sprig"], path: "Examples/slurm-cluster", swiftSettings: strict),
        .executableTarget(name: "sprig-bench", dependencies: ["Sprig"], path: "Sources/SprigBench", swiftSettings: strict),
        .testTarget(name: "PythonBridgeTests", dependencies: ["PythonBridge"], exclude: ["PythonModules"], swiftSettings: strict),
        .testTarget(name: "SprigTests", dependencies: ["Sprig", "PythonBridge"], exclude: ["PythonModules", "Scripts"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
