import Foundation
import StarlingCore

/// What each kind of membership message costs one core that knows `members` others,
/// in a release build without any I/O: decoding, applying and answering it, and
/// draining what it sends. `starling bench membership` prints it in its detail, so the
/// CPU budget of a join storm can be read off: a burst of N joins makes every peer
/// handle about N × log(N) gossiped updates.
///
/// Each kind is timed over many copies of one message, always against a copy of the same
/// warmed-up core, so the figure is the steady-state cost of one message.
struct MembershipCost {
    /// Nanoseconds per message, by kind.
    let nanoseconds: [(kind: String, value: Double)]
    /// The encoded size of this core's full state and the datagrams it takes.
    let fullStateBytes: Int
    let fullStateDatagrams: Int

    /// One line for a bench's detail.
    var text: String {
        let kinds = nanoseconds.map { "\($0.kind) \(String(format: "%.1f", $0.value / 1000)) µs" }
            .joined(separator: ", ")
        return "membership core alone, per message: \(kinds); full state \(fullStateBytes) bytes in "
            + "\(fullStateDatagrams) datagrams"
    }

    static func measure(members: Int, seconds: Double) throws -> MembershipCost {
        var random = SystemRandomNumberGenerator()
        let address = PeerAddress.ipv4(127, 0, 0, 1, port: 4000)
        var core = try MembershipCore(
            identity: .generate(using: &random), address: address, configuration: .local,
            random: SystemRandomNumberGenerator())
        // Signed claims, as members send them; each is verified once as it is learned.
        let others = (0..<members).map { index in
            let identity = IdentityKeyPair.generate(using: &random)
            let memberAddress = PeerAddress.ipv4(127, 0, UInt8(index >> 8), UInt8(index & 0xFF), port: 4001)
            return MemberUpdate(
                state: .alive, incarnation: 1, member: identity.peerID, address: memberAddress,
                signature: MemberClaim.sign(
                    swarmID: MembershipConstants.publicSwarmID, state: .alive, incarnation: 1, address: memberAddress,
                    with: identity))
        }
        let sender = others[0].member
        // Learn every member, then let the join burst's news drain so piggybacks are empty.
        var now = Instant.zero
        for chunk in stride(from: 0, to: others.count, by: 25) {
            let part = Array(others[chunk..<min(chunk + 25, others.count)])
            let bytes = try MembershipMessage.pushPull(
                sender: sender, replyRequested: false, isJoin: false, isPartial: false, members: part
            )
            .encoded()
            core.handleMessage(bytes[...], from: address, now: now)
        }
        var buffer: [UInt8] = []
        for _ in 0..<10_000 where core.pendingBroadcasts > 0 {
            now = now + .milliseconds(50)
            core.handleTimeout(now: now)
            while core.pollTransmit(now: now, into: &buffer) != nil {}
            while core.pollEvent() != nil {}
        }
        let warmed = core
        var fullBytes = 0
        var fullDatagrams = 0
        var probe = warmed
        let join = try MembershipMessage.pushPull(
            sender: sender, replyRequested: true, isJoin: true, isPartial: false, members: [others[1]]
        )
        .encoded()
        probe.handleMessage(join[...], from: address, now: now)
        while probe.pollTransmit(now: now, into: &buffer) != nil {
            fullBytes += buffer.count
            fullDatagrams += 1
        }

        let cases: [(String, [UInt8])] = [
            (
                "ping",
                try MembershipMessage.ping(
                    sequence: 1, target: warmed.localID, sender: sender, digest: 0, updates: []
                ).encoded()
            ),
            (
                "ack (unexpected)",
                try MembershipMessage.ack(sequence: 7, sender: sender, digest: 0, coordinate: .origin, updates: [])
                    .encoded()
            ),
            (
                "gossip of 25 known",
                try MembershipMessage.gossip(sender: sender, updates: Array(others.prefix(25))).encoded()
            ),
            (
                "push-pull part of 25",
                try MembershipMessage.pushPull(
                    sender: sender, replyRequested: false, isJoin: false, isPartial: false,
                    members: Array(others.prefix(25))
                ).encoded()
            ),
            ("join (answered with full state)", join),
        ]
        var results: [(String, Double)] = []
        for (name, bytes) in cases {
            var copies = 0
            var elapsed = Duration.zero
            let clock = ContinuousClock()
            while elapsed.seconds < seconds {
                var target = warmed
                let start = clock.now
                for _ in 0..<64 {
                    target.handleMessage(bytes[...], from: address, now: now)
                    while target.pollTransmit(now: now, into: &buffer) != nil {}
                    while target.pollEvent() != nil {}
                }
                elapsed += clock.now - start
                copies += 64
            }
            results.append((name, Double(elapsed.nanosecondsClamped) / Double(copies)))
        }
        return MembershipCost(nanoseconds: results, fullStateBytes: fullBytes, fullStateDatagrams: fullDatagrams)
    }
}
