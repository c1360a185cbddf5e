import Foundation
import Synchronization

/// Threads that keep cores busy until stopped: `starling swarm --cpu-hog N` runs the
/// swarm on a machine loaded the way a build or another busy process loads it.
final class CPUHog: Sendable {
    private let running = Atomic<Bool>(true)

    /// Starts `threads` spinning threads (none for 0).
    init(threads: Int) {
        for index in 0..<threads {
            let thread = Thread { [self] in
                var counter: UInt64 = 0
                while running.load(ordering: .relaxed) { counter &+= 1 }
                blackHole(counter)
            }
            thread.name = "cpu-hog-\(index)"
            thread.start()
        }
    }

    /// Stops every thread (they end at their next check); safe to call more than once.
    func stop() {
        running.store(false, ordering: .relaxed)
    }
}

/// Keeps the optimiser from removing the loop whose result it is given.
@inline(never)
private func blackHole(_ value: UInt64) {
    if value == .max { print("") }
}
