public import StarlingCore

/// One sample of a running swarm's health, as shown by ``SwarmDashboard``.
public struct SwarmSnapshot: Sendable, Equatable {
    /// Time since the swarm started launching.
    public var elapsed: Duration
    /// Peers that have started and are running.
    public var peersUp: Int
    /// Peers the swarm is meant to have.
    public var peersTotal: Int
    /// How far membership has converged, from 0 to 100: the share of peers whose member
    /// list holds every live peer. Values outside 0...100 are clamped when shown.
    public var convergencePercent: Double
    /// Protocol messages sent per second by the whole swarm over the last interval.
    public var messagesPerSecond: Double
    /// Median round-trip time in microseconds, or `nil` when no samples were taken.
    public var rttP50Microseconds: Double?
    /// 99th-percentile round-trip time in microseconds, or `nil` when no samples were taken.
    public var rttP99Microseconds: Double?
    /// Members currently suspected by at least one peer.
    public var suspectedCount: Int
    /// Members declared failed by at least one peer.
    public var failedCount: Int
    /// Datagrams the kernel dropped at the peers' full receive queues so far.
    public var receiveDrops: Int
    /// Peers by the role they hold (`TopologyRole`); shown when any holds
    /// a hybrid role (index or client), empty by default.
    public var roles: [TopologyRole: Int]
    /// Hybrid: peers whose lookups go to the Kademlia overlay because no index server is up.
    public var fallbackCount: Int

    /// Makes a snapshot; the round-trip times default to "no samples".
    public init(
        elapsed: Duration,
        peersUp: Int,
        peersTotal: Int,
        convergencePercent: Double,
        messagesPerSecond: Double,
        rttP50Microseconds: Double? = nil,
        rttP99Microseconds: Double? = nil,
        suspectedCount: Int = 0,
        failedCount: Int = 0,
        receiveDrops: Int = 0,
        roles: [TopologyRole: Int] = [:],
        fallbackCount: Int = 0
    ) {
        self.elapsed = elapsed
        self.peersUp = peersUp
        self.peersTotal = peersTotal
        self.convergencePercent = convergencePercent
        self.messagesPerSecond = messagesPerSecond
        self.rttP50Microseconds = rttP50Microseconds
        self.rttP99Microseconds = rttP99Microseconds
        self.suspectedCount = suspectedCount
        self.failedCount = failedCount
        self.receiveDrops = receiveDrops
        self.roles = roles
        self.fallbackCount = fallbackCount
    }

    /// Whether any peer holds a role other than a pure overlay's, so that the roles are
    /// worth showing.
    var isHybrid: Bool { roles.contains { $0.key != .peer && $0.value > 0 } }

    /// The role counts in ``StarlingCore/TopologyRole`` order, those of no peer left out:
    /// `3 index  27 client`.
    var roleText: String {
        TopologyRole.allCases.compactMap { role in
            roles[role].flatMap { $0 > 0 ? "\($0) \(role)" : nil }
        }.joined(separator: "  ")
    }
}

/// The text of `starling swarm`'s live view, as pure functions of their inputs.
///
/// Nothing here reads a clock or writes to a terminal: the caller samples a
/// ``SwarmSnapshot``, asks for lines, and writes them. On a terminal, write
/// ``redraw(previousLineCount:lines:)`` of ``liveLines(_:)`` to update the view in place;
/// elsewhere (a pipe, a log file) write one ``plainLine(_:)`` per sample instead.
public enum SwarmDashboard {
    /// Width, in cells, of the bars in ``liveLines(_:)``.
    public static let liveBarWidth = 30

    /// A launch progress bar such as `[#########.......]  120/200 peers launched`.
    ///
    /// The bar is full only once `done` reaches `total`; the count of launched peers is
    /// padded to the width of `total`, so that successive bars line up.
    /// - Parameters:
    ///   - done: Peers launched so far.
    ///   - total: Peers to launch. When it is zero or less the bar is drawn full.
    ///   - width: Cells between the brackets; values below 1 are raised to 1.
    public static func progressBar(done: Int, total: Int, width: Int = 30) -> String {
        let count = String(done)
        let padding = String(repeating: " ", count: max(0, String(total).count - count.count))
        return "\(bar(done: done, total: total, width: width))  \(padding)\(count)/\(total) peers launched"
    }

    /// A compact multi-line dashboard for a terminal, for example:
    ///
    /// ```
    /// starling swarm  t=3.0s
    /// peers      [##############################]  50/50 up
    /// converged  [##############################]  100.0%
    /// traffic    1,234 msgs/s   rtt p50 85µs  p99 310µs
    /// health     0 suspected  0 failed
    /// roles      3 index  47 client  0 in fallback
    /// ```
    ///
    /// The `roles` line is there only for a hybrid swarm (``SwarmSnapshot/roles``), so the
    /// number of lines is the same for every snapshot of one swarm.
    public static func liveLines(_ snapshot: SwarmSnapshot) -> [String] {
        let percent = clampedPercent(snapshot.convergencePercent)
        let peerCount = String(snapshot.peersUp)
        let peerPadding = String(
            repeating: " ", count: max(0, String(snapshot.peersTotal).count - peerCount.count)
        )
        let percentText = SwarmNumberText.fixed(percent, fractionDigits: 1)
        let percentPadding = String(repeating: " ", count: max(0, 5 - percentText.count))
        let convergenceBar = bar(
            done: Int((percent / 100 * Double(liveBarWidth)).rounded(.down)), total: liveBarWidth, width: liveBarWidth
        )
        var lines = [
            "starling swarm  t=\(seconds(snapshot.elapsed))",
            "peers      \(bar(done: snapshot.peersUp, total: snapshot.peersTotal, width: liveBarWidth))  "
                + "\(peerPadding)\(peerCount)/\(snapshot.peersTotal) up",
            "converged  \(convergenceBar)  \(percentPadding)\(percentText)%",
            "traffic    \(SwarmNumberText.grouped(rate(snapshot.messagesPerSecond))) msgs/s   "
                + "rtt p50 \(rtt(snapshot.rttP50Microseconds))  p99 \(rtt(snapshot.rttP99Microseconds))",
            "health     \(snapshot.suspectedCount) suspected  \(snapshot.failedCount) failed  "
                + "\(SwarmNumberText.grouped(snapshot.receiveDrops)) receive drops",
        ]
        if snapshot.isHybrid {
            lines.append("roles      \(snapshot.roleText)  \(snapshot.fallbackCount) in fallback")
        }
        return lines
    }

    /// One line per sample for output that is not a terminal, for example
    /// `t=3.0s up=50/50 converged=100.0% msgs/s=1234 rtt p50=85µs p99=310µs suspected=0 failed=0 drops=0`.
    ///
    /// Missing round-trip times are written as `-`. A hybrid swarm's line ends with its
    /// roles and the peers in fallback: `roles=index:3,client:47 fallback=0`.
    public static func plainLine(_ snapshot: SwarmSnapshot) -> String {
        let percent = SwarmNumberText.fixed(clampedPercent(snapshot.convergencePercent), fractionDigits: 1)
        var roles = ""
        if snapshot.isHybrid {
            let counts = TopologyRole.allCases.compactMap { role in
                snapshot.roles[role].flatMap { $0 > 0 ? "\(role):\($0)" : nil }
            }
            roles = " roles=\(counts.joined(separator: ",")) fallback=\(snapshot.fallbackCount)"
        }
        return "t=\(seconds(snapshot.elapsed)) up=\(snapshot.peersUp)/\(snapshot.peersTotal) "
            + "converged=\(percent)% msgs/s=\(rate(snapshot.messagesPerSecond)) "
            + "rtt p50=\(rtt(snapshot.rttP50Microseconds)) p99=\(rtt(snapshot.rttP99Microseconds)) "
            + "suspected=\(snapshot.suspectedCount) failed=\(snapshot.failedCount) drops=\(snapshot.receiveDrops)"
            + roles
    }

    /// The text that replaces the block of lines drawn last time with `lines`, in place.
    ///
    /// It moves the cursor up `previousLineCount` lines, clears and rewrites each line, and
    /// clears whatever the old block left below a shorter new one. It expects the cursor at
    /// the start of the line below the old block, which is where the previous call's text
    /// leaves it; pass 0 the first time. Each line must hold no newline and fit the terminal's
    /// width, or the line count goes wrong.
    /// - Parameters:
    ///   - previousLineCount: How many lines the previous call wrote; 0 for the first.
    ///   - lines: The new block; pass its count as `previousLineCount` next time.
    public static func redraw(previousLineCount: Int, lines: [String]) -> String {
        var out = ""
        if previousLineCount > 0 {
            out += "\r" + ANSI.cursorUp(previousLineCount)
        }
        for line in lines {
            out += ANSI.clearLine + line + "\n"
        }
        if previousLineCount > lines.count {
            out += ANSI.clearToEndOfScreen
        }
        return out
    }

    /// ECMA-48 control sequences, as understood by every terminal emulator in use.
    enum ANSI {
        /// Control Sequence Introducer.
        static let csi = "\u{1B}["
        /// Erases the whole line the cursor is on, leaving the cursor where it is.
        static let clearLine = csi + "2K"
        /// Erases from the cursor to the end of the screen.
        static let clearToEndOfScreen = csi + "J"
        /// Moves the cursor up `lines` lines; `lines` must be at least 1, since terminals
        /// read a count of 0 as 1.
        static func cursorUp(_ lines: Int) -> String { csi + "\(lines)A" }
    }

    private static func bar(done: Int, total: Int, width: Int) -> String {
        let width = max(width, 1)
        let filled = total > 0 ? min(max(0, done), total) * width / total : width
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    private static func clampedPercent(_ percent: Double) -> Double {
        percent.isNaN ? 0 : min(100, max(0, percent))
    }

    private static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return SwarmNumberText.fixed(Double(seconds) + Double(attoseconds) / 1e18, fractionDigits: 1) + "s"
    }

    private static func rate(_ perSecond: Double) -> Int {
        perSecond.isFinite ? Int(max(0, min(perSecond, 1e15)).rounded()) : 0
    }

    /// A round-trip time in the unit that keeps it short: `85µs`, `1.23ms`, `2.50s`.
    static func rtt(_ microseconds: Double?) -> String {
        guard let microseconds, microseconds.isFinite, microseconds >= 0 else { return "-" }
        if microseconds.rounded() < 1000 { return "\(Int(microseconds.rounded()))µs" }
        if microseconds < 999_995 { return SwarmNumberText.fixed(microseconds / 1000, fractionDigits: 2) + "ms" }
        return SwarmNumberText.fixed(microseconds / 1_000_000, fractionDigits: 2) + "s"
    }
}

/// Number formatting that gives the same text on every platform, without Foundation.
enum SwarmNumberText {
    /// `value` rounded to `fractionDigits` decimal places, such as `12.5` or `-0.30`.
    /// Non-finite and huge values fall back to Swift's own description.
    static func fixed(_ value: Double, fractionDigits: Int) -> String {
        var scale: Int64 = 1
        for _ in 0..<max(0, fractionDigits) { scale *= 10 }
        let scaled = (abs(value) * Double(scale)).rounded()
        guard value.isFinite, scaled < 9e15 else { return "\(value)" }
        let units = Int64(scaled)
        let sign = value < 0 && units != 0 ? "-" : ""
        guard fractionDigits > 0 else { return sign + String(units) }
        let fraction = String(units % scale)
        let zeros = String(repeating: "0", count: fractionDigits - fraction.count)
        return sign + String(units / scale) + "." + zeros + fraction
    }

    /// `value` with a comma between each group of three digits, such as `12,345`.
    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value.magnitude))
        var out = value < 0 ? "-" : ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }
}
