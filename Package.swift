// swift-tools-version:6.1
import PackageDescription

#if canImport(Glibc)
    import Glibc

    /// Whether the `hipkit` binary is linked with packed relative relocations (DT_RELR): only
    /// where this machine's C library loads them (glibc 2.36) and the toolchain's `ld.lld`,
    /// which packs them, is on `PATH` (swift.org's toolchains have it next to `swift`).
    let packsRelocations: Bool = {
        var text = [CChar](repeating: 0, count: 64)  // "glibc 2.36"
        guard confstr(Int32(_CS_GNU_LIBC_VERSION), &text, text.count) > 0 else { return false }
        let name = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let version = name.split(separator: " ").last?.split(separator: ".").compactMap { Int($0) }
        guard let version, version.count >= 2, (version[0], version[1]) >= (2, 36) else { return false }
        let path = getenv("PATH").map { String(cString: $0) } ?? ""
        return path.split(separator: ":").contains { access("\($0)/ld.lld", X_OK) == 0 }
    }()
#else
    let packsRelocations = false
#endif

let package = Package(
    name: "hipkit",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hipkit", targets: ["hipkit"]),
        .library(name: "HipChatConnect", targets: ["HipChatConnect"]),
        .library(name: "HipKit", targets: ["HipKit"]),
        // For the fuzz package (Fuzz/), which drives the runtime's JWT and install checks.
        .library(name: "HipKitServer", targets: ["HipKitServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.11.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        // libcmark-gfm and its extensions (Debian's libcmark-gfm-dev and
        // libcmark-gfm-extensions-dev), with the arena it allocates from (arena.c).
        .target(
            name: "CCmarkGFM",
            linkerSettings: [.linkedLibrary("cmark-gfm"), .linkedLibrary("cmark-gfm-extensions")]
        ),
        // libpng (Debian's libpng-dev), with the one C function its writing API needs: that API
        // reports errors by longjmp, which Swift cannot call across.
        .target(
            name: "CLibPNG",
            // zlib for the CRC-32 of hipkit_png_check; libpng itself links it too.
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("z")]
        ),
        .systemLibrary(
            name: "CTurboJPEG",
            pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]
        ),
        // Built-in scaffolds and page layouts live at the top of the repository so they are easy to
        // find and edit; this target embeds them in the binary (see Plugins/EmbedTemplates), so that
        // `hipkit` is one file to install.
        .target(
            name: "HipKitTemplates",
            path: "templates",
            exclude: ["README.md", "scaffolds", "layouts", "dev", "hipchat"],
            sources: ["TemplatesBundle.swift"],
            plugins: ["EmbedTemplates"]
        ),
        .executableTarget(name: "TemplateEmbedder"),
        .plugin(name: "EmbedTemplates", capability: .buildTool(), dependencies: ["TemplateEmbedder"]),
        // The typed model of a HipChat Connect add-on — its vocabulary, the descriptor, the runtime
        // manifest, JSON values and diagnostics — shared by the build, the server and the local
        // HipChat. It depends on none of them.
        .target(name: "HipChatConnect"),
        .target(
            name: "HipKit",
            dependencies: [
                "HipChatConnect",
                "CLibYAML",
                "CCmarkGFM",
                "CLibPNG",
                "CTurboJPEG",
                "HipKitTemplates",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        .target(
            name: "HipKitServer",
            dependencies: [
                "HipChatConnect",
                "HipKit",
                "HipKitTemplates",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "hipkit",
            dependencies: [
                "HipChatConnect",
                "HipKit",
                "HipKitServer",
                "HipKitTemplates",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // SwiftPM exports every symbol of an executable on Linux (58,919 here), which each
            // start pays for: the Swift runtime's dladdr at start walks them all. Crash backtraces
            // read the executable's own symbol table, which stays.
            //
            // The binary holds 156,000 relative relocations, which the dynamic loader reads at
            // each start from 3.7 MB of `.rela.dyn`. Packed (DT_RELR) they take 31 KB. Gold,
            // Swift's default linker on Linux, cannot pack them; the toolchain's lld can, and
            // only glibc 2.36 or later loads the result.
            linkerSettings: [
                .unsafeFlags(["-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux]))
            ]
                + (packsRelocations
                    ? [
                        .unsafeFlags(
                            ["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"],
                            .when(platforms: [.linux]))
                    ] : [])
        ),
        // Children of the test processes (servers, browsers, builds), loopback ports, blocking
        // work and polling in async tests, shared by both test targets.
        .target(name: "TestProcesses", path: "Tests/TestProcesses"),
        .testTarget(
            name: "HipKitServerTests",
            dependencies: [
                "HipChatConnect",
                "TestProcesses",
                "HipKitServer",
                "HipKit",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "HipKitTests",
            dependencies: [
                "HipChatConnect", "HipKit", "TestProcesses", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
