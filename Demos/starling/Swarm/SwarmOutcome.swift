import Foundation
import Starling
import StarlingIO

/// What `starling swarm` measured.
struct SwarmOutcome {
    let peers: Int
    let processes: Int
    /// Seconds from the first peer's start to the last one's.
    let launchTime: Double
    let convergedAfter: Double?
    let convergence: Double
    let lookupsOK: Int
    let lookupsTotal: Int
    /// Lookups not started because the time for them ran out (counted as failed).
    let lookupsSkipped: Int
    let rssBytes: Int
    let messagesSent: Int
    /// Membership messages sent by all peers of this process, by kind.
    let membershipSent: [String: Int]
    /// Overlay datagrams sent by all peers of this process, by protocol.
    let sentByProtocol: [String: Int]
    let rtt: LatencySummary?
    let suspected: Int
    let failed: Int
    /// Suspicions raised over the whole run (every peer's `suspected` events).
    let suspicionEvents: Int
    /// Members declared failed over the whole run; nobody is killed, so each is false.
    let failureEvents: Int
    let receiveDrops: Int
    /// Peers of this process that no seed had answered by the end.
    let unjoined: Int
    let maximumTimerLag: Duration
    let broadcastsSent: Int
    let broadcastsDelivered: Int
    let sessions: Int
    let childrenFailed: Int
    let duration: Double
    let loss: Double
    let seed: UInt64
    let graph: SwarmGraph
    /// `pure` or `hybrid`.
    let topology: String
    /// Peers of this process by role (`peer`; or `index` and `client`).
    let roles: [String: Int]

    /// Converged, every lookup answered, no live peer declared failed, and every child
    /// process reported.
    var succeeded: Bool {
        convergedAfter != nil && lookupsOK == lookupsTotal && failureEvents == 0 && childrenFailed == 0
    }

    /// What went wrong, in plain words, or nil when the run succeeded.
    var problems: [String] {
        var problems: [String] = []
        if convergedAfter == nil {
            problems.append(
                "membership did not converge: at the end \(format(100 * convergence)) % of the peers' views were complete"
            )
        }
        if unjoined > 0 { problems.append("\(unjoined) peers were still waiting for a seed to answer their join") }
        if lookupsOK < lookupsTotal {
            let skipped = lookupsSkipped > 0 ? " (\(lookupsSkipped) not started: the minute for lookups ran out)" : ""
            problems.append("\(lookupsTotal - lookupsOK) of \(lookupsTotal) lookups failed\(skipped)")
        }
        if failureEvents > 0 {
            problems.append("live peers were declared failed \(failureEvents) times (nobody was stopped)")
        }
        if childrenFailed > 0 { problems.append("\(childrenFailed) child processes did not report") }
        if !problems.isEmpty, receiveDrops > 0 {
            problems.append(
                "the kernel dropped \(receiveDrops) datagrams at full receive queues and timers ran up to "
                    + "\(format(maximumTimerLag.seconds * 1000)) ms late: this machine was too busy for the swarm")
        }
        return problems
    }

    /// The human summary.
    var summary: String {
        let converged =
            convergedAfter.map { "converged after \(format($0)) s (all peers started after \(format(launchTime)) s)" }
            ?? "did NOT converge"
        let rttText = rtt.map { "p50 \(format($0.p50)) µs, p99 \(format($0.p99)) µs (\($0.samples) echoes)" } ?? "none"
        return """
            swarm of \(peers) peers in \(processes) process\(processes == 1 ? "" : "es"): \(converged) \
            (\(format(100 * convergence)) % of membership views complete at the end)
              lookups:     \(lookupsOK)/\(lookupsTotal) found the peer's signed record
              broadcasts:  \(broadcastsSent) sent, \(broadcastsDelivered) deliveries
              echo RTT:    \(rttText)
              sessions:    \(sessions) between peers of this process
              suspected:   \(suspected), failed: \(failed) (membership views at the end); \
            \(suspicionEvents) suspicions and \(failureEvents) failures over the run
              load:        \(receiveDrops) datagrams dropped at full receive queues; timers up to \
            \(format(maximumTimerLag.seconds * 1000)) ms late
              topology:    \(topology)\(roleText)
              memory:      \(rssBytes / 1_048_576) MiB resident\(processes > 1 ? " (all processes)" : "")\(loss > 0 ? "\n  loss:        \(format(100 * loss)) % injected" : "")
            """
    }

    /// The role counts for the summary: ` (3 index servers, 47 clients)` for a hybrid swarm,
    /// ` (2 super-peers, 58 leaves)` for a super-peer one.
    private var roleText: String {
        switch topology {
        case "hybrid": " (\(roles["index", default: 0]) index servers, \(roles["client", default: 0]) clients)"
        case "super-peer": " (\(roles["super-peer", default: 0]) super-peers, \(roles["leaf", default: 0]) leaves)"
        default: ""
        }
    }

    /// The JSON object of `--json`.
    var json: String {
        var object: [String: Any] = [
            "peers": peers, "processes": processes, "convergence": convergence, "lookups_ok": lookupsOK,
            "lookups_total": lookupsTotal, "rss_bytes": rssBytes, "messages_sent": messagesSent,
            "suspected": suspected, "failed": failed, "broadcasts_sent": broadcastsSent,
            "broadcasts_delivered": broadcastsDelivered, "sessions": sessions, "duration_s": duration,
            "suspected_events": suspicionEvents, "failed_events": failureEvents, "receive_drops": receiveDrops,
            "unjoined_peers": unjoined,
            "max_timer_lag_ms": maximumTimerLag.seconds * 1000, "launch_s": launchTime,
            "loss": loss, "seed": seed, "succeeded": succeeded, "membership_sent": membershipSent,
            "overlay_sent": sentByProtocol, "topology": topology, "roles": roles,
        ]
        object["converged_after_s"] = convergedAfter ?? NSNull()
        object["rtt_p50_us"] = rtt?.p50 ?? NSNull()
        object["rtt_p99_us"] = rtt?.p99 ?? NSNull()
        return JSONText.encode(object: object)
    }

    private func format(_ value: Double) -> String {
        String(format: value >= 100 ? "%.0f" : "%.2f", value)
    }
}
