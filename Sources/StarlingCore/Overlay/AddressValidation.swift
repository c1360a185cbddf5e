internal import DequeModule

/// Keeps what this peer sends to an address that has not proved it receives within
/// what that address sent: overlay answers amplify nothing.
///
/// ### Rule
/// Each remote address has a *credit*: the bytes received from it minus the bytes sent
/// to it, at most ``OverlayConstants/maximumAddressCredit``. A datagram to an unproven
/// address goes out only if the credit covers it, and spends it. An address that sent
/// nothing starts with ``OverlayConstants/unprovenAllowance`` (one datagram) and a
/// challenge: the contacts this peer starts itself (a join to a seed, a
/// first ping to a member) never wait, and what an attacker who names a victim's
/// address gains is that one datagram and one check per tracked address. An address
/// that sent something first gets no allowance: its credit is exactly what it sent, so
/// a spoofed request is answered with at most as many bytes as it had.
///
/// A datagram goes out only while it leaves the credit of one challenge. One that
/// does not is *held* (in order, at most ``OverlayConstants/maximumHeldBytesPerAddress``
/// per address and ``OverlayConstants/maximumHeldBytes`` in all) and an
/// ``AddressCheckMessage`` challenge goes out, paid from that reserve, or from whatever
/// credit the address has when it sent less than a challenge (a request of a few bytes
/// whose answer is larger: the challenge then exceeds what it sent by at most its own
/// size, once per ``OverlayConstants/addressCheckRetry``). An address is
/// *proven* when it echoes the challenge's nonce; then the held datagrams go out, in
/// order, and nothing to it is capped for ``OverlayConstants/addressProofLifetime``.
/// Held datagrams not released within ``OverlayConstants/heldLifetime`` are dropped.
///
/// Checks happen only when something has to wait: between members, whose pings and
/// acks roughly balance, that is the first large answer (a push-pull, a lookup reply)
/// or a run of one-way membership gossip, and it costs that datagram one round trip.
/// The exception is spreading, one-way from a peer to its neighbours and sensitive to
/// order: its first datagram to an unproven address is followed by a challenge at once.
/// And an index server keeps its fellows proven (``proveAhead(_:now:)``): a lost
/// fellow's records go to them all at once, far more than any credit or hold.
/// Challenging every address up front would prove each pair at once but double the
/// datagrams of a large swarm, where a member meets another only every few minutes.
///
/// The table holds ``OverlayConstants/maximumTrackedAddresses``, or twice the members
/// held when that is more (``track(members:)``); when full, an eighth
/// is freed, unproven addresses first, least recently active first. Each datagram costs
/// one dictionary access; only holding copies a datagram.
///
/// ### Driving
/// ``noteReceived(from:bytes:now:)`` for every accepted datagram, before
/// ``handle(_:from:now:)`` for address checks; ``admit(_:kind:to:now:)`` for every
/// datagram before it is sent; ``pollOutbound()`` before any other datagram;
/// ``expireHeld(now:)`` at ``nextDeadline``. `now` must never go backwards.
struct AddressValidation: Sendable {
    /// A datagram waiting for its address to prove it receives.
    struct HeldDatagram: Sendable {
        /// The whole overlay datagram, envelope included.
        var bytes: [UInt8]
        /// Whose message it carries (for the statistics).
        var kind: OverlayProtocol
    }

    /// A datagram this type itself wants sent.
    enum Outbound: Sendable {
        /// An address check message, to be put in an envelope.
        case check(AddressCheckMessage, to: PeerAddress)
        /// A datagram that was held, ready as it is.
        case released(HeldDatagram, to: PeerAddress)
    }

    /// What ``admit(_:kind:to:now:)`` decided.
    enum Admission: Equatable, Sendable {
        /// Send the datagram now.
        case send
        /// The datagram was copied and held (or dropped when the hold was full).
        case held
    }

    /// One remote address.
    struct Entry: Sendable {
        /// Bytes that may still be sent while unproven.
        var credit: Int
        /// Until when the address is proven; nil when it is not.
        var provenUntil: Instant?
        /// The nonce of the unanswered challenge, if any.
        var challenge: AddressCheckNonce?
        /// When that challenge was sent.
        var challengedAt: Instant
        /// Datagrams waiting for the proof, oldest first.
        var held: [HeldDatagram] = []
        /// Their bytes.
        var heldBytes = 0
        /// When the oldest of them was held.
        var heldSince: Instant
        /// When a datagram last came from or went to the address.
        var lastActive: Instant

        init(credit: Int, now: Instant) {
            self.credit = credit
            challengedAt = now
            heldSince = now
            lastActive = now
        }

        /// Whether a challenge may be sent at `now`: none is waiting for its answer.
        func challengeDue(at now: Instant) -> Bool {
            challenge == nil || now - challengedAt >= OverlayConstants.addressCheckRetry
        }

        /// Forgets a proof that ran out; the address starts again as one that sent
        /// nothing, with `allowance`.
        mutating func lapseProof(at now: Instant, allowance: Int) {
            guard let until = provenUntil, until <= now else { return }
            provenUntil = nil
            credit = allowance
        }
    }

    /// Bytes of an address check datagram in this swarm's envelope.
    let checkSize: Int
    /// The credit of an address that sent nothing: one datagram
    /// (``OverlayConstants/unprovenAllowance``) and the challenge that follows it.
    var allowance: Int { OverlayConstants.unprovenAllowance + checkSize }
    /// The most addresses tracked now: ``minimumCapacity``, or more for a peer that holds
    /// many members (``track(members:)``).
    private(set) var capacity: Int
    /// The most addresses tracked whatever the members held.
    let minimumCapacity: Int
    private(set) var entries: [PeerAddress: Entry] = [:]
    private var outbound = Deque<Outbound>()
    /// When each hold started expires, in time order (some are stale).
    private var holdDeadlines = Deque<(address: PeerAddress, deadline: Instant)>()
    /// Bytes held for all addresses.
    private(set) var heldBytes = 0
    /// What happened so far.
    private(set) var statistics = OverlayAdmissionStatistics()
    private var random: ForkedRandom

    /// Creates an empty table.
    /// - Parameters:
    ///   - checkSize: bytes of an address check datagram (message and envelope).
    ///   - seed: seeds the nonces of challenges.
    ///   - capacity: most addresses tracked.
    init(checkSize: Int, seed: UInt64, capacity: Int = OverlayConstants.maximumTrackedAddresses) {
        self.checkSize = checkSize
        self.capacity = max(8, capacity)
        minimumCapacity = self.capacity
        random = ForkedRandom(seed: seed)
    }

    /// Sizes the table for a peer that holds `members` members: room for twice as many
    /// addresses, and never less than ``minimumCapacity``. An index server or super-peer
    /// exchanges datagrams with every member it holds; a table smaller than that would
    /// forget their proofs in turn and check them again and again, and drop the
    /// datagrams held for addresses forgotten mid-check (at 5,000 peers an index server
    /// challenged 87 addresses a second, and clients' list requests went unanswered).
    /// The table stays bounded by membership's own bound
    /// (``MembershipConfiguration/maximumMembers``); a smaller size takes effect at the
    /// next address added.
    mutating func track(members: Int) {
        capacity = max(minimumCapacity, members.multipliedReportingOverflow(by: 2).partialValue)
    }

    /// Whether `address` is proven at `now`.
    func isProven(_ address: PeerAddress, at now: Instant) -> Bool {
        entries[address]?.provenUntil.map { now < $0 } ?? false
    }

    /// The earliest time held datagrams may expire.
    var nextDeadline: Instant? { holdDeadlines.first?.deadline }

    // MARK: Inputs

    /// Counts `bytes` received from `address` as credit (up to the cap); sends the
    /// challenge that held datagrams wait for if none is waiting and the credit now
    /// covers it.
    ///
    /// An address check gives credit but prompts no challenge of its own: the credit of
    /// a challenge is kept for its response (two peers that challenge each other at once
    /// would otherwise each spend on a challenge what the other's response needs).
    mutating func noteReceived(from address: PeerAddress, bytes: Int, isCheck: Bool = false, now: Instant) {
        let allowance = allowance
        let wantsChallenge = update(address, fresh: 0, now: now) { entry in
            entry.lastActive = now
            entry.lapseProof(at: now, allowance: allowance)
            guard entry.provenUntil == nil else { return false }
            entry.credit = min(entry.credit + bytes, OverlayConstants.maximumAddressCredit)
            return !isCheck && !entry.held.isEmpty && entry.challengeDue(at: now) && entry.credit > 0
        }
        if wantsChallenge { challenge(address, now: now) }
    }

    /// Answers a challenge or takes a response from `address`.
    mutating func handle(_ message: AddressCheckMessage, from address: PeerAddress, now: Instant) {
        switch message {
        case .challenge(let nonce):
            let checkSize = checkSize
            let mayAnswer = update(address, fresh: 0, now: now) { entry in
                if entry.provenUntil != nil { return true }
                guard entry.credit >= checkSize else { return false }
                entry.credit -= checkSize
                return true
            }
            guard mayAnswer, outbound.count < OverlayConstants.maximumQueuedChecks else {
                statistics.refusedChallenges += 1
                return
            }
            outbound.append(.check(.response(nonce), to: address))
            statistics.responsesSent += 1
        case .response(let nonce):
            let released = update(address, fresh: 0, now: now) { entry -> [HeldDatagram]? in
                guard entry.challenge == nonce else { return nil }
                entry.challenge = nil
                entry.provenUntil = now + OverlayConstants.addressProofLifetime
                let held = entry.held
                entry.held = []
                entry.heldBytes = 0
                return held
            }
            guard let released else {
                statistics.unmatchedResponses += 1
                return
            }
            statistics.addressesProven += 1
            for datagram in released {
                heldBytes -= datagram.bytes.count
                outbound.append(.released(datagram, to: address))
            }
            statistics.releasedDatagrams += released.count
        }
    }

    /// Decides whether `datagram` may go to `address` now; spends the credit it takes,
    /// or holds a copy of it. Queues a challenge when one is due.
    mutating func admit(_ datagram: [UInt8], kind: OverlayProtocol, to address: PeerAddress, now: Instant)
        -> Admission
    {
        let (checkSize, allowance, size, heldBytes) = (checkSize, allowance, datagram.count, heldBytes)
        // Each hold that starts is one deadline; addresses that churn through the table
        // must not grow that list past a bound.
        let holdsFull = holdDeadlines.count >= 4 * capacity
        let (admission, wantsChallenge, holdStarted) = update(
            address, fresh: allowance, now: now
        ) { entry -> (Admission?, Bool, Bool) in
            entry.lastActive = now
            entry.lapseProof(at: now, allowance: allowance)
            if entry.provenUntil != nil { return (.send, false, false) }
            // The credit is spent only down to one challenge, so a challenge is always
            // affordable when something has to wait.
            if entry.held.isEmpty, entry.credit >= size + checkSize {
                entry.credit -= size
                // Spreading runs one way, neighbour to neighbour: its flows drain the
                // credit, and a held flood copy can arrive after a slower one and stop
                // the flood short. So its first datagram to an unproven address is
                // followed by a challenge at once (one per neighbour).
                return (.send, kind == .spreading && entry.challengeDue(at: now), false)
            }
            // A request smaller than a challenge (a 6-byte index list request) still pays
            // for one: its answer would otherwise wait for a credit that never comes.
            let wantsChallenge = entry.challengeDue(at: now) && entry.credit > 0
            guard entry.heldBytes + size <= OverlayConstants.maximumHeldBytesPerAddress,
                heldBytes + size <= OverlayConstants.maximumHeldBytes,
                !entry.held.isEmpty || !holdsFull
            else { return (nil, wantsChallenge, false) }
            let started = entry.held.isEmpty
            if started { entry.heldSince = now }
            entry.held.append(HeldDatagram(bytes: datagram, kind: kind))
            entry.heldBytes += size
            return (.held, wantsChallenge, started)
        }
        if wantsChallenge { challenge(address, now: now) }
        switch admission {
        case .send:
            return .send
        case .held:
            self.heldBytes += size
            statistics.heldDatagrams += 1
            if holdStarted { holdDeadlines.append((address, now + OverlayConstants.heldLifetime)) }
            return .held
        case nil:
            statistics.droppedHeldDatagrams += 1
            return .held
        }
    }

    /// Challenges `address` now unless it is proven, a challenge to it waits for its
    /// answer, datagrams to it are held already (a challenge went with them), or its
    /// credit cannot pay one: for an address this peer may have to send much more than
    /// it receives from at once (a fellow index server taking over a lost one's
    /// records), which would overflow the hold and lose the rest.
    mutating func proveAhead(_ address: PeerAddress, now: Instant) {
        let (checkSize, allowance) = (checkSize, allowance)
        let due = update(address, fresh: allowance, now: now) { entry in
            entry.lapseProof(at: now, allowance: allowance)
            return entry.provenUntil == nil && entry.held.isEmpty && entry.challengeDue(at: now)
                && entry.credit >= checkSize
        }
        if due { challenge(address, now: now) }
    }

    /// Drops the held datagrams whose time is up.
    mutating func expireHeld(now: Instant) {
        while let first = holdDeadlines.first, first.deadline <= now {
            holdDeadlines.removeFirst()
            guard var entry = entries[first.address], !entry.held.isEmpty,
                entry.heldSince + OverlayConstants.heldLifetime <= now
            else { continue }
            statistics.droppedHeldDatagrams += entry.held.count
            heldBytes -= entry.heldBytes
            entry.held = []
            entry.heldBytes = 0
            entries[first.address] = entry
        }
    }

    // MARK: Outputs

    /// The next datagram this type wants sent: responses, challenges and released
    /// datagrams, in the order they arose.
    mutating func pollOutbound() -> Outbound? { outbound.popFirst() }

    // MARK: Internals

    /// Sends a fresh challenge to `address`, paid from its credit unless it is proven.
    private mutating func challenge(_ address: PeerAddress, now: Instant) {
        guard outbound.count < OverlayConstants.maximumQueuedChecks else { return }
        let nonce = AddressCheckNonce.random(using: &random)
        let checkSize = checkSize
        update(address, fresh: 0, now: now) { entry in
            entry.challenge = nonce
            entry.challengedAt = now
            if entry.provenUntil == nil { entry.credit -= checkSize }
        }
        outbound.append(.check(.challenge(nonce), to: address))
        statistics.challengesSent += 1
    }

    /// Runs `body` on the entry of `address`, created with `fresh` credit if absent
    /// (making room first when the table is full).
    @discardableResult
    private mutating func update<Result>(
        _ address: PeerAddress, fresh credit: Int, now: Instant, _ body: (inout Entry) -> Result
    ) -> Result {
        if entries.count >= capacity, entries[address] == nil { makeRoom(now: now) }
        return body(&entries[address, default: Entry(credit: credit, now: now)])
    }

    /// Frees an eighth of the table: unproven addresses first, then the least recently
    /// active. Freeing a share keeps a flood of new addresses to one sort per
    /// `capacity / 8` of them.
    private mutating func makeRoom(now: Instant) {
        let excess = entries.count - (capacity - capacity / 8)
        guard excess > 0 else { return }
        let victims = entries.sorted { left, right in
            let (leftProven, rightProven) = (left.value.provenUntil != nil, right.value.provenUntil != nil)
            if leftProven != rightProven { return !leftProven }
            return left.value.lastActive < right.value.lastActive
        }.prefix(excess)
        for (address, entry) in victims {
            statistics.droppedHeldDatagrams += entry.held.count
            heldBytes -= entry.heldBytes
            entries[address] = nil
        }
    }
}
