// swift-tools-version:6.0
// The fuzz targets, apart from the main package so that `swift build` there never needs
// libFuzzer. Built and run by Fuzz/run (debug, with -sanitize=fuzzer,address).
import PackageDescription

let package = Package(
    name: "hipkit-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "hipkit", path: "..")],
    targets: [
        .executableTarget(
            name: "hipkit-fuzz",
            dependencies: [.product(name: "HipKit", package: "hipkit")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
