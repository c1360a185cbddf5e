import Starling

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes `starling swarm`'s live view to standard output.
///
/// On a terminal it redraws one dashboard block in place; anywhere else it writes one plain
/// line per sample, so that logs and pipes get readable text without control sequences.
/// The text itself comes from ``SwarmDashboard``, which is tested in StarlingTests.
struct SwarmView {
    /// Whether standard output is a terminal.
    static var isTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Whether this view redraws in place (true) or writes a line per sample (false).
    let interactive: Bool
    /// Lines of the block drawn last, which the next redraw replaces.
    private var drawnLineCount = 0

    /// Makes a view; by default it redraws in place only when standard output is a terminal.
    init(interactive: Bool = SwarmView.isTerminal) {
        self.interactive = interactive
    }

    /// Shows launch progress: redrawn in place on a terminal, otherwise printed only when
    /// the launch completes, to keep logs short.
    mutating func showLaunch(done: Int, total: Int) {
        let line = SwarmDashboard.progressBar(done: done, total: total)
        if interactive {
            replace(with: [line])
        } else if done >= total {
            write(line + "\n")
        }
    }

    /// Shows one sample of the running swarm.
    mutating func show(_ snapshot: SwarmSnapshot) {
        if interactive {
            replace(with: SwarmDashboard.liveLines(snapshot))
        } else {
            write(SwarmDashboard.plainLine(snapshot) + "\n")
        }
    }

    /// Leaves the last block on screen, so that later output starts below it.
    mutating func finish() {
        drawnLineCount = 0
    }

    private mutating func replace(with lines: [String]) {
        write(SwarmDashboard.redraw(previousLineCount: drawnLineCount, lines: lines))
        drawnLineCount = lines.count
    }

    private func write(_ text: String) {
        print(text, terminator: "")
        fflush(nil)
    }
}
