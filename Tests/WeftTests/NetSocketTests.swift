import Synchronization
import XCTest

@testable import Weft

final class NetSocketTests: XCTestCase {
  func testEchoBetweenTasksThrowsTypedErrors() throws {
    let listener = try NetSocket.listen(host: "127.0.0.1", port: 0)
    let port = listener.localPort
    XCTAssertGreaterThan(port, 0)
    try go {
      guard let conn = try? listener.accept() else { return }
      while let bytes = try? conn.read(), !bytes.isEmpty { try? conn.write(bytes) }
      try? conn.close()
    }
    let echoed = Atomic<Int>(0)
    try go {
      do {
        let c = try NetSocket.connect(host: "127.0.0.1", port: port)
        XCTAssertEqual(try c.peerAddress, "127.0.0.1:\(port)")
        try c.write(Array("hello".utf8))
        var back = [UInt8](repeating: 0, count: 5)
        try back.withUnsafeMutableBytes { try c.readFull(into: $0) }
        XCTAssertEqual(String(decoding: back, as: UTF8.self), "hello")
        try c.shutdownWrite()
        XCTAssertEqual(try c.read(), [])
        do {
          var one = [UInt8](repeating: 0, count: 1)
          try one.withUnsafeMutableBytes { try c.readFull(into: $0) }
          XCTFail("read past the end")
        } catch {
          XCTAssertEqual(error as? WeftError, .endOfStream)
        }
        try c.close()
        XCTAssertThrowsError(try c.close()) { XCTAssertEqual($0 as? WeftError, .closed) }
        echoed.store(1, ordering: .releasing)
      } catch {
        XCTFail("\(error)")
      }
    }
    eventually("echo") { echoed.load(ordering: .acquiring) == 1 }
    try listener.close()
  }

  func testRefusedAndTimedOut() throws {
    let listener = try NetSocket.listen(host: "127.0.0.1", port: 0)
    let port = listener.localPort
    XCTAssertThrowsError(try listener.accept(timeout: .milliseconds(5))) {
      XCTAssertEqual($0 as? WeftError, .timedOut)
    }
    try listener.close()
    XCTAssertThrowsError(try NetSocket.connect(host: "127.0.0.1", port: port)) {
      XCTAssertEqual($0 as? WeftError, .connectionRefused)
    }
  }
}
