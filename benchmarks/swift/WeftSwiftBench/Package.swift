// swift-tools-version:6.1
// Weft's Swift face beside Swift Concurrency (benchmarks/swift/README.md). A
// package of its own, so swift-async-algorithms never slows the main build.
import Foundation
import PackageDescription

// A path dependency is named after its folder (the checkout's name varies).
let weft = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().lastPathComponent

let package = Package(
  name: "weft-swift-bench",
  dependencies: [
    .package(path: "../../.."),
    .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
  ],
  targets: [
    .executableTarget(
      name: "weft-swift-bench",
      dependencies: [
        .product(name: "Weft", package: weft),
        .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
      ])
  ]
)
