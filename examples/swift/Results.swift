import Weft

struct ParseError: Error { let line: String }

/// Results through channels: a go {} handle carries a value or a thrown error;
/// many tasks report through one channel of Result.
func resultsExample(_ test: Bool) throws -> Bool {
  // A handle: wait() returns the value or rethrows the task's error.
  let sum = try go { (1...1_000).reduce(0, +) }
  let parse = try go { () throws(ParseError) -> Int in
    guard let n = Int("12x") else { throw ParseError(line: "12x") }
    return n
  }
  let total = sum.wait()
  var parseFailed = false
  do { _ = try parse.wait() } catch { parseFailed = error.line == "12x" }
  print("sum \(total), parse failed: \(parseFailed)")

  // A result channel: each task sends its Result; the receiver counts both.
  let inputs = ["1", "2", "three", "4"]
  let results = Chan<Result<Int, ParseError>>(capacity: inputs.count)
  for text in inputs {
    try go { try! results.send(Int(text).map { .success($0) } ?? .failure(ParseError(line: text))) }
  }
  var good = 0
  var bad: [String] = []
  for _ in inputs {
    switch try results.receive()! {
    case .success(let n): good += n
    case .failure(let error): bad.append(error.line)
    }
  }
  print("parsed sum \(good), rejected \(bad)")
  return total == 500_500 && parseFailed && good == 7 && bad == ["three"]
}
