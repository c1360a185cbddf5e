/// What a peer believes about one member.
///
/// ONLY APPEND — raw values are protocol (the first byte of a ``MemberUpdate``).
public enum MemberState: UInt8, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Answering probes, as far as anyone knows.
    case alive = 0
    /// Missed a probe; declared ``dead`` unless it refutes before the suspicion timeout.
    case suspect = 1
    /// Failed: the suspicion timed out without a refutation.
    case dead = 2
    /// Left gracefully.
    case left = 3

    /// Whether the member still counts toward the cluster (alive or suspect).
    public var isLive: Bool { self == .alive || self == .suspect }

    /// Whether others report this state (suspect, dead: hearsay naming an accuser) rather
    /// than the member claiming it itself (alive, left: signed, ``MemberClaim``).
    public var isHearsay: Bool { self == .suspect || self == .dead }

    /// The state's name.
    public var description: String {
        switch self {
        case .alive: "alive"
        case .suspect: "suspect"
        case .dead: "dead"
        case .left: "left"
        }
    }
}

/// One member of the cluster as a peer sees it.
public struct Member: Equatable, Sendable, CustomStringConvertible {
    /// The member's identity.
    public var id: PeerID
    /// Where to send its membership messages.
    public var address: PeerAddress
    /// The member's incarnation: only it raises the number, to refute suspicion.
    public var incarnation: UInt32
    /// What this peer believes about it.
    public var state: MemberState
    /// When ``state`` last changed.
    public var stateChangedAt: Instant
    /// The member's signature of its latest claim: alive at ``incarnation`` and
    /// ``address`` while it is alive, suspect or dead here; left once it has left.
    public var signature: ClaimSignature?

    /// Creates a member record.
    public init(
        id: PeerID, address: PeerAddress, incarnation: UInt32, state: MemberState, stateChangedAt: Instant,
        signature: ClaimSignature? = nil
    ) {
        self.id = id
        self.address = address
        self.incarnation = incarnation
        self.state = state
        self.stateChangedAt = stateChangedAt
        self.signature = signature
    }

    /// The member's latest claim, as it signed it, to pass on.
    public var claim: MemberUpdate {
        MemberUpdate(
            state: state == .left ? .left : .alive, incarnation: incarnation, member: id, address: address,
            signature: signature)
    }

    /// A short form for logs and traces.
    public var description: String { "\(id.shortDescription)@\(address)#\(incarnation) \(state)" }
}
