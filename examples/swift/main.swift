// The Swift face of Weft, one file per pattern (the seeds' patterns, typed):
//
//   Results.swift       results through channels (a go {} handle, a result channel)
//   Pipeline.swift      a three-stage pipeline of tasks
//   FanOutFanIn.swift   fan-out to workers, fan-in through one channel
//   WorkerPool.swift    a worker pool bounded by a semaphore
//   ContextTree.swift   a context tree with a timeout, select on done
//   ErrGroup.swift      errgroup: the first error cancels the rest
//   Collect.swift       collect with partial success
//   Concurrency.swift   Swift Tasks and go {} tasks on the same channels
//
//   swift run weft-swift-example            (--test: a short run that checks itself)
import Weft

let test = CommandLine.arguments.contains("--test")
let examples: [(String, (Bool) throws -> Bool)] = [
  ("results", resultsExample),
  ("pipeline", pipelineExample),
  ("fan-out/fan-in", fanOutFanInExample),
  ("worker pool", workerPoolExample),
  ("context tree", contextTreeExample),
  ("errgroup", errGroupExample),
  ("collect", collectExample),
  ("swift concurrency", concurrencyExample),
]
var failed: [String] = []
for (name, run) in examples {
  print("-- \(name)")
  do {
    if try !run(test) { failed.append(name) }
  } catch {
    print("threw \(error)")
    failed.append(name)
  }
}
print(failed.isEmpty ? "ok" : "FAILED: \(failed.joined(separator: ", "))")
if !failed.isEmpty { fatalError("swift examples failed") }
