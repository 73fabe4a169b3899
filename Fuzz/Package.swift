// swift-tools-version:6.0
// The fuzz targets, apart from the main package so that `swift build` there never needs
// libFuzzer. Built and run by Fuzz/run (debug, with -sanitize=fuzzer,address).
import PackageDescription

let package = Package(
    name: "hipkit-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "hipkit", path: ".."),
        // The same packages the main package resolves; named here for the two products the
        // jwt target signs and logs with.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.1.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .executableTarget(
            name: "hipkit-fuzz",
            dependencies: [
                .product(name: "HipChatConnect", package: "hipkit"),
                .product(name: "HipKit", package: "hipkit"),
                .product(name: "HipKitServer", package: "hipkit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
