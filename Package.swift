// swift-tools-version:6.1
import PackageDescription

let upcomingFeatures: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The engine's loops are optimised even in debug builds: tests and the dev daemon run real networks.
let optimised: [SwiftSetting] = upcomingFeatures + [.unsafeFlags(["-O"])]

let package = Package(
    name: "Delineate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "delineate", targets: ["delineate"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // Native libraries.
        .target(
            name: "CDCMTK",
            linkerSettings: [
                .linkedLibrary("dcmseg"), .linkedLibrary("dcmfg"), .linkedLibrary("dcmiod"),
                .linkedLibrary("dcmnet"), .linkedLibrary("dcmtls"),
                .linkedLibrary("dcmjpeg"), .linkedLibrary("dcmjpls"),
                .linkedLibrary("dcmimage"), .linkedLibrary("dcmimgle"), .linkedLibrary("dcmdata"),
                .linkedLibrary("oflog"), .linkedLibrary("ofstd"), .linkedLibrary("stdc++"),
            ]
        ),
        // Sign-in against LDAP / Active Directory through OpenLDAP's libldap (libldap-dev).
        .target(name: "CLDAP", linkerSettings: [.linkedLibrary("ldap"), .linkedLibrary("lber")]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // The engine's direct convolution kernel (AVX-512 or AVX2 + FMA, chosen at run time), optimised in every build.
        .target(name: "CConvolution", cSettings: [.unsafeFlags(["-O3"])]),

        // Swift libraries, lowest first.
        // Terminology/: the generator of SegmentationTerminology+Table.swift (Python, not built).
        .target(name: "DicomKit", dependencies: ["CDCMTK"], exclude: ["Terminology"], swiftSettings: upcomingFeatures),
        .target(name: "Tensor", dependencies: ["COpenBLAS", "CConvolution"], swiftSettings: optimised),
        .target(name: "Segmentation", dependencies: ["Tensor"], swiftSettings: optimised),
        // Offline only (the command line's eval, phantom and bench; the tests): phantoms, the virtual
        // user, click and propagation evaluation, metrics, charts. The daemon's targets never import it.
        .target(name: "Evaluation", dependencies: ["Segmentation", "VolumeFiles"], swiftSettings: optimised),
        .target(name: "VolumeFiles", dependencies: ["CZlib"], swiftSettings: upcomingFeatures),
        .target(
            name: "Store",
            dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "Server",
            dependencies: [
                "DicomKit", "Tensor", "Segmentation", "Store", "VolumeFiles", "CLDAP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "delineate",
            dependencies: [
                "Server", "Store", "DicomKit", "Segmentation", "Evaluation", "Tensor", "VolumeFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcomingFeatures
        ),

        // Shared test helpers: find the dev services, make databases and DICOM files.
        .target(
            name: "DelineateTesting",
            dependencies: ["Store", "DicomKit", "Segmentation", "Evaluation"],
            swiftSettings: upcomingFeatures
        ),

        .testTarget(
            name: "DicomKitTests", dependencies: ["DicomKit", "Evaluation", "DelineateTesting"], exclude: ["Fixtures"],
            swiftSettings: upcomingFeatures),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"], swiftSettings: upcomingFeatures),
        .testTarget(
            name: "VolumeFilesTests", dependencies: ["VolumeFiles"], exclude: ["Fixtures"],
            swiftSettings: upcomingFeatures),
        .testTarget(
            name: "SegmentationTests", dependencies: ["Segmentation", "Evaluation"], swiftSettings: upcomingFeatures),
        .testTarget(
            name: "EvaluationTests", dependencies: ["Evaluation", "Segmentation", "VolumeFiles"],
            swiftSettings: upcomingFeatures),
        .testTarget(name: "StoreTests", dependencies: ["Store", "DelineateTesting"], swiftSettings: upcomingFeatures),
        // Unit tests of Store and Server: no database, PACS, browser or directory (README: the fast tests).
        .testTarget(name: "StoreUnitTests", dependencies: ["Store"], swiftSettings: upcomingFeatures),
        .testTarget(
            name: "ServerUnitTests",
            dependencies: ["Server", "Store", "DicomKit", .product(name: "Yams", package: "Yams")],
            swiftSettings: upcomingFeatures),
        .testTarget(
            name: "CommandLineTests",
            dependencies: ["Store", "DicomKit", "Segmentation", "Evaluation", "DelineateTesting"],
            swiftSettings: upcomingFeatures),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "Store", "DicomKit", "Segmentation", "Evaluation", "VolumeFiles", "DelineateTesting",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: upcomingFeatures
        ),
    ],
    cxxLanguageStandard: .cxx17
)
