/// How a peer's sessions behave: which swarm, its secret, and the table limits.
///
/// ### Purpose
/// Every field says what it controls and what raising or lowering it costs. Start from
/// a profile: ``lan`` is the reference; ``local`` and ``simulation`` are deltas from it.
/// Timer values that are protocol (rekey and reject times) live in `SessionConstants`.
public struct SessionConfiguration: Sendable {
    /// Identifies the swarm; it is bound into every handshake's Noise prologue, so peers
    /// of different swarms complete no handshake. 32 bytes; all zero is the public swarm.
    public var swarmID: [UInt8]

    /// The swarm secret (32 bytes), or nil for an open swarm. When set it is the Noise
    /// psk (IKpsk2 / XXpsk3): a peer without it completes no handshake.
    public var swarmSecret: [UInt8]?

    /// Most handshakes this peer holds half-done at once, counted separately for the
    /// handshakes it started (its own connects and rekeys) and for those it answers (XX
    /// waiting for message 3, and peers whose IK keys wait for confirmation), so that no
    /// flood of initiations can refuse the peer's own. Higher admits more simultaneous
    /// newcomers; each entry costs about 1 KB, and this bound is what keeps
    /// unauthenticated input from growing memory.
    public var maximumPendingHandshakes: Int

    /// Half-done answered handshakes above which this peer is under load: it then
    /// answers an initiation without a valid cookie (`mac2`) with a cookie reply instead
    /// of any Diffie-Hellman work or state. Lower makes floods cheaper to absorb but
    /// costs newcomers one more round trip sooner; WireGuard's is an eighth of its queue.
    public var handshakeLoadThreshold: Int

    /// Handshake initiations accepted per source address per second (token bucket
    /// refill), counted separately for initiations with and without a valid cookie; one
    /// without a cookie beyond the allowance is answered with a cookie reply, one with
    /// a cookie beyond it is dropped. Lower resists floods from one address; too low
    /// slows legitimate reconnects behind a shared NAT address.
    public var handshakesPerSourcePerSecond: Double

    /// Burst of initiations accepted from one source before the rate applies.
    public var handshakeBurstPerSource: Int

    /// Most peers with sessions (established, being made, or with keys waiting for
    /// confirmation). Bounds the session and index tables. When full, a new peer takes
    /// the place of the peer heard from least recently, if that one has been silent for
    /// ``SessionConstants/minimumIdleBeforeEviction`` (reported as
    /// `closed(peer:reason: .evicted)`); otherwise the new peer is refused (counted as
    /// ``DropReason/sessionTableFull``, or `handshakeFailed(.tooManySessions)` for this
    /// side's own connect).
    public var maximumSessions: Int

    /// Payload bytes a handshake message may carry (the peer's signed record, later).
    public var maximumHandshakePayload: Int

    /// Errors in a configuration.
    public enum ValidationError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The swarm ID is not 32 bytes.
        case swarmIDLength(Int)
        /// The swarm secret is not 32 bytes.
        case swarmSecretLength(Int)
        /// A limit is zero or negative.
        case nonPositive(field: String)

        public var description: String {
            switch self {
            case .swarmIDLength(let count): "the swarm ID must be 32 bytes, not \(count)"
            case .swarmSecretLength(let count): "the swarm secret must be 32 bytes, not \(count)"
            case .nonPositive(let field): "\(field) must be positive"
            }
        }
    }

    /// The reference profile, for peers on a LAN or the internet.
    public static let lan = SessionConfiguration(
        swarmID: [UInt8](repeating: 0, count: 32),
        swarmSecret: nil,
        maximumPendingHandshakes: 1024,
        handshakeLoadThreshold: 128,
        handshakesPerSourcePerSecond: 20,
        handshakeBurstPerSource: 40,
        maximumSessions: 4096,
        maximumHandshakePayload: 800
    )

    /// Many peers on one machine's loopback: sources are few and shared, so allow
    /// more handshakes per source address.
    public static let local: SessionConfiguration = {
        var configuration = lan
        // Hundreds of peers may share 127.0.0.1: one source is many peers.
        configuration.handshakesPerSourcePerSecond = 2000
        configuration.handshakeBurstPerSource = 4000
        return configuration
    }()

    /// The simulator: like ``local``, and tables sized for large swarms per peer.
    public static let simulation: SessionConfiguration = {
        var configuration = local
        // Simulated peers each talk to few others; smaller tables keep 10,000 peers light.
        configuration.maximumPendingHandshakes = 256
        configuration.handshakeLoadThreshold = 32
        configuration.maximumSessions = 1024
        return configuration
    }()

    /// Checks every field.
    /// - Throws: ``ValidationError`` for the first field that is out of range.
    public func validate() throws(ValidationError) {
        guard swarmID.count == 32 else { throw .swarmIDLength(swarmID.count) }
        if let swarmSecret, swarmSecret.count != 32 { throw .swarmSecretLength(swarmSecret.count) }
        guard maximumPendingHandshakes > 0 else { throw .nonPositive(field: "maximumPendingHandshakes") }
        guard handshakeLoadThreshold > 0 else { throw .nonPositive(field: "handshakeLoadThreshold") }
        guard handshakesPerSourcePerSecond > 0 else { throw .nonPositive(field: "handshakesPerSourcePerSecond") }
        guard handshakeBurstPerSource > 0 else { throw .nonPositive(field: "handshakeBurstPerSource") }
        guard maximumSessions > 0 else { throw .nonPositive(field: "maximumSessions") }
        guard maximumHandshakePayload >= 0 else { throw .nonPositive(field: "maximumHandshakePayload") }
    }

    /// The Noise prologue: binds the protocol version and the swarm into the handshake
    /// hash, so a peer of another version or swarm fails the handshake.
    var prologue: [UInt8] {
        Array("starling".utf8) + [DatagramHeader.currentVersion] + swarmID
    }
}
