import ArgumentParser
import Foundation

/// `starling bench CASE`: measure Starling against a baseline in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure a Starling path against a baseline measured in the same process.",
        discussion: """
            Each case runs the baseline and the Starling code alternately for the given time and \
            prints both rates and their ratio (Starling / baseline). Build with -c release for \
            meaningful figures: swift run -c release starling bench records
            """
    )

    /// The cases this build can measure.
    enum Case: String, ExpressibleByArgument, CaseIterable {
        case records
        case framing
    }

    @Argument(help: "What to measure: \(Case.allCases.map(\.rawValue).joined(separator: ", ")).")
    var benchCase: Case

    @Option(help: "Seconds for each side (0.1 to 600).")
    var seconds: Double = 2

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        guard (0.1...600).contains(seconds) else {
            throw ValidationError("--seconds must be from 0.1 to 600, not \(seconds)")
        }
    }

    func run() async throws {
        let result: BenchResult
        switch benchCase {
        case .records: result = RecordsBench.run(seconds: seconds)
        case .framing: result = FramingBench.run(seconds: seconds)
        }
        print(json ? result.json : result.table)
    }
}

/// One benchmark's outcome: both rates and their ratio.
struct BenchResult: Encodable {
    let name: String
    let starling: Double
    let baseline: Double
    let unit: String
    let detail: String
    var ratio: Double { baseline > 0 ? starling / baseline : 0 }

    enum CodingKeys: String, CodingKey { case name, starling, baseline, ratio, unit, detail }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(starling, forKey: .starling)
        try container.encode(baseline, forKey: .baseline)
        try container.encode(ratio, forKey: .ratio)
        try container.encode(unit, forKey: .unit)
        try container.encode(detail, forKey: .detail)
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    var table: String {
        """
        \(name): \(detail)
          baseline  \(format(baseline)) \(unit)
          starling  \(format(starling)) \(unit)
          ratio     \(String(format: "%.3f", ratio))x
        """
    }

    private func format(_ value: Double) -> String { String(format: "%14.1f", value) }
}

/// Runs `body` repeatedly for about `seconds` and returns how many times per second
/// it ran. `body` does `batch` operations per call and returns a value that is
/// accumulated so the optimiser cannot drop the work.
func measureRate(seconds: Double, batch: Int, _ body: () -> Int) -> Double {
    let clock = ContinuousClock()
    let budget = Duration.milliseconds(Int64(seconds * 1000))
    var operations = 0
    var sink = 0
    let start = clock.now
    var elapsed = Duration.zero
    while elapsed < budget {
        sink &+= body()
        operations += batch
        elapsed = clock.now - start
    }
    blackHole(sink)
    let (secondsPart, attoseconds) = elapsed.components
    return Double(operations) / (Double(secondsPart) + Double(attoseconds) / 1e18)
}

/// Keeps a value alive past the optimiser.
@inline(never)
func blackHole(_ value: Int) {
    if value == 0x5EED_F00D { print("") }
}
