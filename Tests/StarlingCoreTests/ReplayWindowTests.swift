import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Replay window cases in the manner of the WireGuard replay tests: each step checks a
/// counter, expects an answer, and commits it when accepted (as after a good AEAD tag).
@Suite struct ReplayWindowTests {
    /// The window depth.
    static let w = ReplayWindow.size
    /// One past the window depth: the first distance that is too old.
    static let t = ReplayWindow.size + 1
    /// The first counter never accepted.
    static let limit = SessionConstants.rejectAfterMessages

    /// Applies `steps` to `window`, committing each accepted counter.
    private func run(
        _ steps: [(UInt64, Bool)], on window: inout ReplayWindow, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for (index, (counter, expected)) in steps.enumerated() {
            let accepted = window.check(counter)
            #expect(accepted == expected, "step \(index): counter \(counter)", sourceLocation: sourceLocation)
            if accepted { window.commit(counter) }
        }
    }

    @Test func replayWindow_size_isAtLeastTheSpecifiedDepth() {
        #expect(ReplayWindow.size == 2048)
        #expect(ReplayWindow.size >= SessionConstants.replayWindowSize)
        #expect(ReplayWindow.ringWords == 33)
    }

    @Test func replayWindow_check_classicSequence() {
        let (t, limit) = (Self.t, Self.limit)
        var window = ReplayWindow()
        run(
            [
                (0, true), (1, true), (1, false), (9, true), (8, true), (7, true), (7, false),
                (t, true), (t - 1, true), (t - 1, false), (t - 2, true), (2, true), (2, false),
                (t + 16, true), (3, false), (t + 16, false),
                (t * 4, true), (t * 4 - (t - 1), true), (10, false), (t * 4 - t, false),
                (t * 4 - (t + 1), false), (t * 4 - (t - 2), true), (t * 4 + 1 - t, false), (0, false),
                (limit, false), (limit - 1, true), (limit, false), (limit - 1, false), (limit - 2, true),
                (limit + 1, false), (limit + 2, false), (limit - 2, false), (limit - 3, true), (0, false),
            ], on: &window)
    }

    @Test func replayWindow_check_fullWindowEdges() {
        let (w, t) = (Self.w, Self.t)
        // Counters committed first (each must be accepted), then probes with their answers.
        let cases: [(fill: [UInt64], probes: [(UInt64, Bool)])] = [
            (Array(1...w), [(0, true), (0, false)]),
            (Array(2...t), [(1, true), (0, false)]),
            (Array((1...t).reversed()), [(0, false), (t + 1, true)]),
            (Array((2...t).reversed()), [(1, true), (0, false)]),
            (Array((1...w).reversed()), [(t, true), (0, false), (1, false)]),
            (Array((1...w).reversed()), [(0, true), (t, true), (0, false)]),
        ]
        for (fill, probes) in cases {
            var window = ReplayWindow()
            run(fill.map { ($0, true) }, on: &window)
            run(probes, on: &window)
        }
    }

    @Test func replayWindow_check_duplicateRejected() {
        var window = ReplayWindow()
        for counter: UInt64 in [0, 5, 4096, 4000] {
            let first = window.checkAndCommit(counter)
            #expect(first)
            #expect(!window.check(counter))
            let again = window.checkAndCommit(counter)
            #expect(!again)
        }
    }

    @Test func replayWindow_check_counterZeroOnFreshWindow() {
        var window = ReplayWindow()
        #expect(window.check(0))
        window.commit(0)
        #expect(!window.check(0))
        #expect(window.check(1))
    }

    @Test func replayWindow_check_limitNeverAccepted() {
        var window = ReplayWindow()
        for counter in [Self.limit, Self.limit + 1, UInt64.max] {
            #expect(!window.check(counter))
            window.commit(counter)
            #expect(window == ReplayWindow(), "committing \(counter) must change nothing")
        }
    }

    @Test func replayWindow_commit_tooOldChangesNothing() {
        var window = ReplayWindow()
        window.commit(5000)
        let before = window
        window.commit(5000 - Self.t)
        window.commit(0)
        #expect(window == before)
    }

    @Test func replayWindow_check_inOrderAcrossManyRingWraps() {
        var window = ReplayWindow()
        for counter in UInt64(0)..<(Self.w * 12) {
            #expect(window.check(counter), "fresh \(counter)")
            window.commit(counter)
            #expect(!window.check(counter), "duplicate \(counter)")
            if counter >= Self.w { #expect(!window.check(counter - Self.w), "seen at the edge \(counter)") }
            if counter >= Self.t { #expect(!window.check(counter - Self.t), "too old \(counter)") }
        }
    }

    @Test func replayWindow_commit_reusedWordIsCleared() {
        // Fill every bit of the ring, then move into the next lap of word 0.
        var window = ReplayWindow()
        let ringBits = UInt64(ReplayWindow.ringWords) * ReplayWindow.wordBits
        for counter in 0..<ringBits { window.commit(counter) }
        window.commit(ringBits + 63)
        for counter in ringBits..<(ringBits + 63) {
            #expect(window.check(counter), "stale bit left for \(counter)")
        }
    }

    @Test func replayWindow_commit_farJumpClearsEveryWord() {
        var window = ReplayWindow()
        for counter in UInt64(0)..<3000 { window.commit(counter) }
        let high: UInt64 = 1_000_000 + 17
        window.commit(high)
        for counter in (high - Self.w)..<high {
            #expect(window.check(counter), "stale bit left for \(counter)")
        }
        #expect(!window.check(high - Self.t))
    }

    @Test func replayWindow_check_randomOrderWithinWindowAllAccepted() {
        var generator = TestRandom(seed: 6479)
        for base: UInt64 in [0, 1, 63, 64, 100_000] {
            var window = ReplayWindow()
            let counters = Array(base...(base + Self.w)).shuffled(using: &generator)
            for counter in counters {
                let accepted = window.checkAndCommit(counter)
                #expect(accepted, "first sight of \(counter)")
            }
            for counter in counters {
                #expect(!window.check(counter), "replay of \(counter)")
            }
        }
    }

    @Test func replayWindow_check_matchesReferenceModel() {
        var generator = TestRandom(seed: 2048)
        var window = ReplayWindow()
        var seen: Set<UInt64> = []
        var highest: UInt64 = 0
        var base: UInt64 = 0
        for step in 0..<40_000 {
            base += UInt64.random(in: 0...3, using: &generator)
            let offset = Int64.random(in: -2_200...300, using: &generator)
            let counter = UInt64(max(0, Int64(base) + offset))
            let fresh = !seen.contains(counter)
            let expected = fresh && (counter > highest || highest - counter <= Self.w)
            #expect(window.check(counter) == expected, "step \(step): counter \(counter), highest \(highest)")
            if expected {
                window.commit(counter)
                seen.insert(counter)
                highest = max(highest, counter)
            }
        }
    }

    @Test func replayWindow_check_withoutCommitChangesNothing() {
        var window = ReplayWindow()
        for counter: UInt64 in [0, 1, 2, 10] { window.commit(counter) }
        let before = window
        for counter: UInt64 in [3, 5, 1_000_000, 10, 0, Self.limit - 1] { _ = window.check(counter) }
        #expect(window == before)
        #expect(window.highest == 10)
        // Unseen counters are still accepted, since nothing moved the window.
        #expect(window.check(3))
        #expect(window.check(5))
    }
}
