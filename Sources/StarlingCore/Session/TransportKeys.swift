/// One established key pair of a session: what seals outgoing and opens incoming
/// transport data, with its counters and replay window.
///
/// ### Purpose
/// A peer holds up to two of these: the current one, and the previous one, which keeps
/// receiving for ``SessionConstants/previousSessionGrace`` after a rekey so that packets
/// in flight are not lost. Sealing and opening work in buffers the caller lends and
/// allocate nothing.
struct TransportKeys: Sendable {
    /// This side's index: incoming packets carry it as their receiver index.
    let localIndex: UInt32
    /// The other side's index: outgoing packets carry it.
    let remoteIndex: UInt32
    /// Whether this side initiated the handshake that made these keys (the initiator
    /// is the one that rekeys by time).
    let isInitiator: Bool
    /// When the handshake completed.
    let created: Instant
    /// Order of derivation among this endpoint's keys: higher is newer, even when
    /// ``created`` ties (several handshakes may complete at one instant).
    let sequence: UInt64
    /// The peer's Ed25519 identity, proven by the handshake.
    let peer: PeerID
    /// Whether the peer initiated these keys' handshake while this side's own, which
    /// wins, was unfinished: the peer abandons them, so they receive but never become
    /// current.
    var lostCrossing = false
    /// Whether these are responder keys that the initiator's first packet made current.
    /// The IK initiator resends an empty packet on new keys until something comes back
    /// on them, for at most ``SessionConstants/rekeyAttemptTime``: so long, a keepalive
    /// on these keys is answered, in case the answer to the first was lost.
    var answersKeepalives = false

    private let sendKey: CipherKey
    private let receiveKey: CipherKey
    /// The next counter to send with.
    private(set) var sendCounter: UInt64 = 0
    private var replay = ReplayWindow()
    /// Whether the other side has proven it holds these keys (an authenticated packet
    /// arrived on them). Until then the session is not reported as established.
    private(set) var confirmed = false

    init(
        localIndex: UInt32, remoteIndex: UInt32, isInitiator: Bool, created: Instant, sequence: UInt64, peer: PeerID,
        sendKey: CipherKey, receiveKey: CipherKey
    ) {
        self.localIndex = localIndex
        self.remoteIndex = remoteIndex
        self.isInitiator = isInitiator
        self.created = created
        self.sequence = sequence
        self.peer = peer
        self.sendKey = sendKey
        self.receiveKey = receiveKey
    }

    /// Whether these keys may still send at `now`: younger than
    /// ``SessionConstants/rejectAfterTime`` and below the message limit.
    func canSend(now: Instant) -> Bool {
        now - created < SessionConstants.rejectAfterTime && sendCounter < SessionConstants.rejectAfterMessages
    }

    /// Appends a transport datagram carrying `plaintext` to `buffer` (which the caller
    /// has emptied) and advances the send counter.
    mutating func seal(_ plaintext: UnsafeRawBufferPointer, into buffer: inout [UInt8]) {
        seal(prefix: .none, plaintext, into: &buffer)
    }

    /// Appends a transport datagram carrying `prefix` then `plaintext` to
    /// `buffer` (which the caller has emptied), encrypting in place, and advances the
    /// send counter.
    mutating func seal(prefix: InnerPrefix, _ plaintext: UnsafeRawBufferPointer, into buffer: inout [UInt8]) {
        let header = TransportHeader(receiverIndex: remoteIndex, counter: sendCounter)
        sendCounter += 1
        let innerCount = prefix.count + plaintext.count
        buffer.reserveCapacity(TransportHeader.size + innerCount + TransportHeader.tagSize)
        header.append(to: &buffer)
        prefix.append(to: &buffer)
        buffer.append(contentsOf: plaintext)
        buffer.append(contentsOf: repeatElement(0, count: TransportHeader.tagSize))
        buffer.withUnsafeMutableBytes { raw in
            let ad = UnsafeRawBufferPointer(rebasing: raw[0..<TransportHeader.size])
            let inner = UnsafeRawBufferPointer(
                rebasing: raw[TransportHeader.size..<TransportHeader.size + innerCount])
            let output = UnsafeMutableRawBufferPointer(rebasing: raw[TransportHeader.size...])
            _ = ChaChaPoly.seal(key: sendKey, nonce: header.counter, ad: ad, plaintext: inner, into: output)
        }
    }

    /// Checks and decrypts a transport datagram into `output` (resized to the plaintext).
    ///
    /// The replay window is consulted before decryption and updated only after the
    /// tag verifies, so a forged packet changes nothing.
    /// - Returns: nil on success, or why the packet was dropped.
    mutating func open(
        _ datagram: UnsafeRawBufferPointer, header: TransportHeader, now: Instant, into output: inout [UInt8]
    ) -> DropReason? {
        guard now - created < SessionConstants.rejectAfterTime else { return .expiredSession }
        guard replay.check(header.counter) else { return .replayed }
        let ciphertext = UnsafeRawBufferPointer(rebasing: datagram[TransportHeader.size...])
        let ad = UnsafeRawBufferPointer(rebasing: datagram[0..<TransportHeader.size])
        // Resize without clearing: the decryption overwrites every byte.
        let length = ciphertext.count - TransportHeader.tagSize
        if output.count > length {
            output.removeLast(output.count - length)
        } else if output.count < length {
            output.append(contentsOf: repeatElement(0, count: length - output.count))
        }
        let opened = output.withUnsafeMutableBytes { raw in
            ChaChaPoly.open(key: receiveKey, nonce: header.counter, ad: ad, ciphertext: ciphertext, into: raw)
        }
        guard opened != nil else {
            output.removeAll(keepingCapacity: true)
            return .decryptionFailed
        }
        replay.commit(header.counter)
        confirmed = true
        return nil
    }
}
