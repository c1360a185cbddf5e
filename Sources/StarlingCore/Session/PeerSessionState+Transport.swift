/// The per-datagram work on one peer's state, done in place.
///
/// `SessionEndpoint` calls these as mutating methods on `peers.values[index]`, which
/// reach the stored state through the dictionary's `_modify` accessor: reading a field
/// through `values[index]` instead returns a copy of the whole state, retaining all
/// it holds.
extension PeerSessionState {
    /// What opening a transport packet found out, for the endpoint's next steps.
    struct Opened {
        /// The keys that opened it.
        let slot: KeySlot
        /// Whether this side initiated those keys' handshake.
        let isInitiator: Bool
        /// When those keys were derived.
        let created: Instant
        /// ``TransportKeys/answersKeepalives`` of those keys.
        let answersKeepalives: Bool
        /// The peer's earliest timer deadline afterwards.
        let deadline: Instant?
    }

    /// The result of ``open(_:header:from:now:into:)``.
    enum OpenOutcome {
        /// The packet authenticated.
        case opened(Opened)
        /// The packet is dropped, for this reason.
        case dropped(DropReason)
    }

    /// What sealing a packet found out, for the endpoint's next steps.
    struct Sealed {
        /// Where the packet goes.
        let address: PeerAddress
        /// The peer's earliest timer deadline afterwards.
        let deadline: Instant?
        /// Whether the keys are due for a new handshake.
        let wantsRekey: Bool
    }

    /// Opens a transport datagram on the keys that hold its receiver index into
    /// `plaintext`, and on success moves the address to `source` and runs the
    /// packet-received timer hooks.
    /// - Returns: what the endpoint needs next, or why the datagram is dropped.
    mutating func open(
        _ datagram: UnsafeRawBufferPointer, header: TransportHeader, from source: PeerAddress, now: Instant,
        into plaintext: inout [UInt8]
    ) -> OpenOutcome {
        guard let slot = slot(for: header.receiverIndex) else { return .dropped(.unknownReceiverIndex) }
        if let reason = self[slot]!.open(datagram, header: header, now: now, into: &plaintext) {
            return .dropped(reason)
        }
        // Authenticated: the peer may have moved; answer where it is now.
        address = source
        lastActive = now
        timers.timersAnyAuthenticatedPacketReceived(now: now)
        if !plaintext.isEmpty { timers.timersDataReceived(now: now) }
        let keys = self[slot]!
        return .opened(
            Opened(
                slot: slot, isInitiator: keys.isInitiator, created: keys.created,
                answersKeepalives: keys.answersKeepalives, deadline: timers.pollTimeout()))
    }

    /// Seals `prefix` (when given) then `rest` as one inner message on the keys in
    /// `slot` into `datagram`, and runs the packet-sent timer hooks (an empty message is
    /// a keepalive).
    /// - Returns: nil, sealing nothing, when there are no such keys or they may no
    ///   longer send.
    mutating func seal(
        prefix: InnerPrefix, _ rest: UnsafeRawBufferPointer, on slot: KeySlot, now: Instant, messageLimit: UInt64,
        random: inout some RandomNumberGenerator, into datagram: inout [UInt8]
    ) -> Sealed? {
        guard self[slot]?.canSend(now: now) == true else { return nil }
        self[slot]!.seal(prefix: prefix, rest, into: &datagram)
        if prefix.count > 0 || !rest.isEmpty { timers.timersDataSent(now: now, using: &random) }
        timers.timersAnyAuthenticatedPacketSent(now: now)
        let keys = self[slot]!
        let due = SessionTimers.wantsRekey(
            isInitiator: keys.isInitiator, age: now - keys.created, sent: keys.sendCounter, messageLimit: messageLimit)
        return Sealed(address: address, deadline: timers.pollTimeout(), wantsRekey: due)
    }
}

extension Dictionary {
    /// Calls `body` with the value at `position`, in place: `values[position]` read
    /// as a value returns a copy of the whole value.
    mutating func withValue<Result>(at position: Index, _ body: (inout Value) -> Result) -> Result {
        body(&values[position])
    }
}
