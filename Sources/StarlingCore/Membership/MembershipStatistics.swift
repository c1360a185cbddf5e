/// Counters of a ``MembershipCore``'s traffic and of the input it dropped.
public struct MembershipStatistics: Equatable, Sendable {
    /// Messages decoded and handled.
    public internal(set) var messagesReceived = 0
    /// Messages queued for sending.
    public internal(set) var messagesSent = 0
    /// Messages queued for sending, by kind (indexed by ``MembershipMessageKind`` raw value).
    var sentByKind = [Int](repeating: 0, count: 8)
    /// Datagrams that did not decode; each was dropped.
    public internal(set) var malformedDropped = 0
    /// Pings meant for another peer ID; each was dropped.
    public internal(set) var misaddressedDropped = 0
    /// Acks and nacks that matched no probe or relay (late or forged).
    public internal(set) var unexpectedAnswers = 0
    /// Times this peer refuted a suspicion of itself.
    public internal(set) var refutations = 0
    /// Times this peer found itself late: a timer served at least
    /// ``MembershipConstants/lateTimerFraction`` of the probe timeout after its
    /// deadline, or the driver reported late timers or receive-queue drops.
    public internal(set) var lateTimers = 0
    /// Probe failures put off because this peer was late (each decided again later).
    public internal(set) var deferredAccusations = 0
    /// Gossip rounds skipped because this peer was late (load shed).
    public internal(set) var gossipRoundsShed = 0
    /// Times accusations were put off because the driver reported input waiting unread.
    public internal(set) var unreadInputDeferrals = 0
    /// Acks that came after their probe had ended; they still measured the round trip.
    public internal(set) var lateAcks = 0
    /// Datagrams the driver reported dropped by the full receive queue.
    public internal(set) var receiveDropsReported = 0
    /// Push-pulls answered with part of the member list because full answers were
    /// used up for the moment (a join storm).
    public internal(set) var partialStateReplies = 0
    /// Sync requests sent: a probe found this peer's digest differing from a member's.
    public internal(set) var syncRequests = 0
    /// Sync requests answered with the members of the buckets that differ.
    public internal(set) var syncAnswers = 0
    /// Sync requests left unanswered because state answers were used up for the moment.
    public internal(set) var syncAnswersShed = 0
    /// Alive and left claims refused because their signature was not the member's
    /// (forged, or signed for another swarm or address).
    public internal(set) var forgedClaims = 0
    /// Claim signatures this core checked (those a shared ``ClaimVerifier`` had already
    /// checked cost nothing and are not counted).
    public internal(set) var claimsVerified = 0
    /// Claims dropped unverified because this core's verification budget was spent
    /// (``MembershipConstants/claimVerificationsPerSecond``).
    public internal(set) var claimsDeferred = 0
    /// New members refused because the table held ``MembershipConfiguration/maximumMembers``.
    public internal(set) var membersRefused = 0
    /// Accusations of this peer at an incarnation it never claimed: forged, and ignored.
    public internal(set) var implausibleAccusations = 0
    /// Checks started: members this peer pinged itself, besides its regular probes,
    /// because another peer suspected them or reported them dead.
    public internal(set) var checksStarted = 0
    /// Ping requests dropped because ``MembershipConstants/relaysHeld`` were in flight.
    public internal(set) var relaysRefused = 0
    /// News of members outside this peer's partial view, ignored (``MembershipView``).
    public internal(set) var outOfViewIgnored = 0
    /// Members dropped from this peer's partial view (``MembershipEvent/forgotten(_:)``).
    public internal(set) var membersForgotten = 0
    /// Scoped answers sent: this peer's own record and its featured members.
    public internal(set) var scopedAnswers = 0
    /// The error of the last malformed datagram.
    public internal(set) var lastDecodeError: WireError?

    /// All zero.
    public init() {}

    /// Messages of `kind` queued for sending.
    public func sent(_ kind: MembershipMessageKind) -> Int { sentByKind[Int(kind.rawValue)] }
}
