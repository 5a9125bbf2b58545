// swift-tools-version:6.1
import PackageDescription

// Only weft_* symbols leave libweft.so (see weft.map). Dynamic exclusivity
// checking stays on everywhere: the scheduler moves a task's open accesses off
// and onto threads at every switch (Task/Scheduler.swift), so a package that
// depends on Weft needs no flag. The unsafe flags below belong to the C
// library's own target (WeftC), which Swift clients of the Weft product never build.

// The C parts: FORTIFY (it needs the optimizer, so release only) and the command
// line recorded in the debug info, where Tests/abi/check_abi.py checks it.
// CWeftCoro is part of the Weft product that Swift packages depend on by version,
// so it takes no unsafe flag (SwiftPM refuses those in a dependency): FORTIFY only.
let fortifiedC: [CSetting] = [.define("_FORTIFY_SOURCE", to: "2", .when(configuration: .release))]
let hardenedC: [CSetting] = fortifiedC + [.unsafeFlags(["-grecord-command-line"])]

let package = Package(
  name: "Weft",
  products: [
    .library(name: "weft", type: .dynamic, targets: ["WeftC"]),
    .library(name: "Weft", targets: ["Weft"]),
  ],
  targets: [
    .systemLibrary(
      name: "CLibUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
    // The context switch (assembly), the thread-local slot and nothing else.
    .target(name: "CWeftCoro", cSettings: fortifiedC),
    // Linked into libweft.so only: its host is not a Swift program, so Swift's
    // crash backtracer stays off there (see backtracer.c).
    .target(name: "CWeftHost", cSettings: hardenedC),
    // include/weft.h as a module, so the @c layer uses the header's own types.
    .systemLibrary(name: "CWeftABI"),
    .target(name: "Weft", dependencies: ["CLibUV", "CWeftCoro"]),
    .target(
      name: "WeftC", dependencies: ["Weft", "CWeftABI", "CWeftHost"], exclude: ["weft.map"],
      // The compiler's own prototypes of the @c functions, which
      // Tests/abi/check_abi.sh holds against include/weft.h and the exports.
      swiftSettings: [
        .unsafeFlags(["-emit-clang-header-path", "\(Context.packageDirectory)/.build/weft-emitted.h"])
      ],
      // libweft.so stands alone: the Swift runtime linked in (-static-stdlib; its
      // symbols stay local through the version script), a SONAME, full RELRO.
      linkerSettings: [
        .unsafeFlags([
          "-static-stdlib",
          "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/WeftC/weft.map",
          "-Xlinker", "-soname=libweft.so.0",
          "-Xlinker", "-z", "-Xlinker", "relro", "-Xlinker", "-z", "-Xlinker", "now",
        ])
      ]),
    .executableTarget(
      name: "weft-swift-example", dependencies: ["Weft"], path: "examples/swift"),
    .testTarget(name: "WeftTests", dependencies: ["Weft"]),
  ]
)
