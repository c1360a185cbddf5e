/// Handshake admission: the MACs on handshake messages, cookies under load, initiation
/// timestamps, and room in the session table (WireGuard whitepaper 5.3, 5.4.4, 5.4.7).
///
/// The responder's order of checks for an initiation, cheapest first, each failure
/// counted in ``SessionEndpoint/drops``:
/// 1. the kind matches the swarm (psk kinds exactly in a private swarm), else `wrongSwarm`;
/// 2. `mac1`, else `invalidMAC`;
/// 3. a byte-identical copy of an XX initiation still waiting for message 3: the same
///    response again when from the same address, counted `handshakeReplayed`;
/// 4. `mac2`: valid → the source is verified and spends a token of its verified
///    allowance (else `rateLimited`); not valid → when under load
///    (``answeredHandshakeCount`` ≥ ``SessionConfiguration/handshakeLoadThreshold``) or
///    past the source's allowance, a ``CookieReply`` goes back and nothing else is done
///    (`cookieRequired`);
/// 5. room among answered handshakes (``SessionConfiguration/maximumPendingHandshakes``),
///    else `handshakeTableFull`.
/// Only then does the responder do Diffie-Hellman work.
extension SessionEndpoint {
    /// Whether `initiation` (whose whole datagram is `datagram`) may be processed now;
    /// sends a cookie reply or counts the drop otherwise.
    mutating func admit(
        _ initiation: HandshakeInitiation, datagram: [UInt8], from source: PeerAddress, now: Instant
    ) -> Bool {
        guard initiation.kind.usesPresharedKey == (configuration.swarmSecret != nil) else {
            drop(.wrongSwarm)
            return false
        }
        let mac1Offset = HandshakeInitiation.mac1Offset(count: datagram.count)
        guard verifyMAC1(datagram, at: mac1Offset, kind: initiation.kind) else {
            drop(.invalidMAC)
            return false
        }
        if let index = respondersByInitiation[initiation.noiseMessage], let responder = responders[index] {
            // The network duplicated an XX initiation: answer it as before, no new work.
            if responder.address == source { outbox.append((source, responder.response)) }
            drop(.handshakeReplayed)
            return false
        }
        let mac2Offset = mac1Offset + HandshakeMAC.size
        let hasMAC2 = initiation.mac2.contains { $0 != 0 }
        let verified =
            hasMAC2
            && datagram.withUnsafeBytes {
                cookieSecrets.verifyMAC2($0, at: mac2Offset, source: source, now: now)
            }
        if verified {
            guard verifiedRateLimiter.allow(source, now: now) else {
                drop(.rateLimited)
                return false
            }
        } else if answeredHandshakeCount >= configuration.handshakeLoadThreshold || !rateLimiter.allow(source, now: now)
        {
            sendCookieReply(
                to: source, kind: initiation.kind, receiverIndex: initiation.senderIndex,
                mac1: Array(datagram[mac1Offset..<mac2Offset]), now: now)
            drop(.cookieRequired)
            return false
        }
        guard answeredHandshakeCount < configuration.maximumPendingHandshakes else {
            drop(.handshakeTableFull)
            return false
        }
        return true
    }

    /// Whether `datagram` carries at `offset` the right `mac1` for a message of `kind`
    /// sent to this peer.
    func verifyMAC1(_ datagram: [UInt8], at offset: Int, kind: HandshakeKind) -> Bool {
        let key = admissionKeys.mac1(for: kind)
        return datagram.withUnsafeBytes { HandshakeMAC.verify($0, macAt: offset, key: key) }
    }

    /// Sends the cookie for `source`, sealed for the initiator whose `mac1` it is.
    mutating func sendCookieReply(
        to source: PeerAddress, kind: HandshakeKind, receiverIndex: UInt32, mac1: [UInt8], now: Instant
    ) {
        let cookie = cookieSecrets.cookie(for: source, now: now, random: &random)
        let nonce = SwarmSealKey.makeNonce(using: &random)
        let reply = CookieReply.seal(
            cookie: cookie, receiverIndex: receiverIndex, key: admissionKeys.cookie(for: kind), mac1: mac1,
            nonce: nonce)
        outbox.append((source, reply.encoded()))
    }

    /// Stores the cookie a responder sent for an initiation of this side, and resends
    /// that initiation once with `mac2`.
    mutating func handleCookieReply(_ reply: CookieReply, from source: PeerAddress, now: Instant) {
        guard var pending = initiations[reply.receiverIndex], pending.confirming == nil,
            pending.sent.count >= HandshakeInitiation.trailerSize
        else { return drop(.invalidCookie) }
        let mac1Offset = HandshakeInitiation.mac1Offset(count: pending.sent.count)
        let mac1 = Array(pending.sent[mac1Offset..<mac1Offset + HandshakeMAC.size])
        let key = HandshakeMAC.cookieKey(
            kind: pending.kind, swarmID: configuration.swarmID, secret: configuration.swarmSecret,
            receiver: pending.expected)
        guard let cookie = reply.open(key: key, mac1: mac1) else { return drop(.invalidCookie) }
        storeCookie(cookie, for: pending.address, now: now)
        guard !pending.resentWithCookie else { return }
        pending.resentWithCookie = true
        HandshakeMAC.stamp(&pending.sent, macAt: mac1Offset + HandshakeMAC.size, key: cookie)
        outbox.append((pending.address, pending.sent))
        store(pending, at: reply.receiverIndex)
    }

    /// Keeps `cookie` for initiations to `address`.
    mutating func storeCookie(_ cookie: [UInt8], for address: PeerAddress, now: Instant) {
        if receivedCookies.count >= SessionConstants.maximumStoredCookies, receivedCookies[address] == nil {
            receivedCookies = receivedCookies.filter { now - $0.value.receivedAt < SessionConstants.cookieRefreshTime }
            if receivedCookies.count >= SessionConstants.maximumStoredCookies { receivedCookies.removeAll() }
        }
        receivedCookies[address] = ReceivedCookie(cookie: cookie, receivedAt: now)
    }

    /// Writes `mac1` (for `receiver`, when known) and `mac2` (with a fresh cookie for
    /// `address`, when this side holds one) into an initiation datagram.
    mutating func stampInitiation(
        _ datagram: inout [UInt8], kind: HandshakeKind, to receiver: PeerID?, at address: PeerAddress, now: Instant
    ) {
        let mac1Offset = HandshakeInitiation.mac1Offset(count: datagram.count)
        let key = HandshakeMAC.mac1Key(
            kind: kind, swarmID: configuration.swarmID, secret: configuration.swarmSecret, receiver: receiver)
        HandshakeMAC.stamp(&datagram, macAt: mac1Offset, key: key)
        guard let stored = receivedCookies[address] else { return }
        guard now - stored.receivedAt < SessionConstants.cookieRefreshTime else {
            receivedCookies[address] = nil
            return
        }
        HandshakeMAC.stamp(&datagram, macAt: mac1Offset + HandshakeMAC.size, key: stored.cookie)
    }

    /// Writes `mac1` into a response datagram for `receiver` (known for IK kinds).
    func stampResponse(_ datagram: inout [UInt8], kind: HandshakeKind, to receiver: PeerID?) {
        let key = HandshakeMAC.mac1Key(
            kind: kind, swarmID: configuration.swarmID, secret: configuration.swarmSecret, receiver: receiver)
        HandshakeMAC.stamp(&datagram, macAt: datagram.count - HandshakeResponse.trailerSize, key: key)
    }

    /// The timestamp for the next IK initiation: the wall clock at `now`, and always
    /// later than the previous one.
    mutating func nextTimestamp(now: Instant) -> HandshakeTimestamp {
        var timestamp = HandshakeTimestamp(now: now, wallClockAtZero: wallClockAtZero)
        if let last = lastTimestampSent, timestamp <= last { timestamp = last.successor }
        lastTimestampSent = timestamp
        return timestamp
    }

    /// Whether a new peer may get state: true when the table has room, or after
    /// evicting the peer heard from least recently if it has been silent for
    /// ``SessionConstants/minimumIdleBeforeEviction``.
    mutating func roomForNewPeer(now: Instant) -> Bool {
        guard peers.count >= configuration.maximumSessions else { return true }
        var oldest: (peer: PeerID, lastActive: Instant)?
        for (peer, state) in peers where now - state.lastActive >= SessionConstants.minimumIdleBeforeEviction {
            if oldest.map({ state.lastActive < $0.lastActive }) ?? true { oldest = (peer, state.lastActive) }
        }
        guard let oldest, let state = forget(oldest.peer) else { return false }
        evictedSessions += 1
        if state.reported { events.append(.closed(peer: oldest.peer, reason: .evicted)) }
        return true
    }
}

/// This peer's keys for the `mac1` of messages sent to it and for its cookie replies,
/// derived once (``HandshakeMAC``).
struct AdmissionKeys: Sendable {
    /// `mac1` key of IK messages to this peer (its ID mixed in).
    let mac1IK: [UInt8]
    /// `mac1` key of XX messages (the swarm's alone).
    let mac1XX: [UInt8]
    /// Cookie key of replies to IK initiations.
    let cookieIK: [UInt8]
    /// Cookie key of replies to XX initiations.
    let cookieXX: [UInt8]

    init(identity: PeerID, configuration: SessionConfiguration) {
        let swarm = configuration.swarmID
        let secret = configuration.swarmSecret
        let ik: HandshakeKind = secret == nil ? .ik : .ikPSK2
        let xx: HandshakeKind = secret == nil ? .xx : .xxPSK3
        mac1IK = HandshakeMAC.mac1Key(kind: ik, swarmID: swarm, secret: secret, receiver: identity)
        mac1XX = HandshakeMAC.mac1Key(kind: xx, swarmID: swarm, secret: secret, receiver: nil)
        cookieIK = HandshakeMAC.cookieKey(kind: ik, swarmID: swarm, secret: secret, receiver: identity)
        cookieXX = HandshakeMAC.cookieKey(kind: xx, swarmID: swarm, secret: secret, receiver: nil)
    }

    /// The `mac1` key of messages of `kind` to this peer.
    func mac1(for kind: HandshakeKind) -> [UInt8] { kind.messageCount == 2 ? mac1IK : mac1XX }

    /// The key of cookie replies to initiations of `kind`.
    func cookie(for kind: HandshakeKind) -> [UInt8] { kind.messageCount == 2 ? cookieIK : cookieXX }
}

/// A cookie a responder gave this side, and when.
struct ReceivedCookie: Sendable {
    /// The 16-byte cookie.
    let cookie: [UInt8]
    /// When it arrived; it is used for ``SessionConstants/cookieRefreshTime``.
    let receivedAt: Instant
}
