// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "StyleCamCore",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "StyleCamCore", targets: ["StyleCamCore"]),
    ],
    targets: [
        .target(
            name: "StyleCamCore",
            swiftSettings: [.enableExperimentalFeature("StrictConcurrency")]
        ),
        .testTarget(
            name: "StyleCamCoreTests",
            dependencies: ["StyleCamCore"]
        ),
    ]
)
