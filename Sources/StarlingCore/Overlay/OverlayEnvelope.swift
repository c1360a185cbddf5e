internal import CSodium

/// Wraps membership, routing and spreading messages in overlay datagrams: tagged with
/// the swarm in an open swarm, sealed with XChaCha20-Poly1305 in a private one.
///
/// ### Wire form
/// `version ‖ 0x09 ‖ mode ‖ body`.
/// - Open (`mode 0x00`): body = swarm tag (8 bytes) ‖ protocol ‖ message, where the tag
///   is the first 8 bytes of `BLAKE2b-256(domain ‖ swarm ID)`: it keeps open swarms
///   apart, and authenticates nothing.
/// - Sealed (`mode 0x01`): body = nonce (24 random bytes) ‖ AEAD(key, nonce,
///   ad: version ‖ type ‖ mode, plaintext: sentAt u64 ‖ protocol ‖ message), with the
///   overlay key of ``SwarmSealKey`` (domain `starling/overlay/v1`).
///
/// Overlay messages travel outside sessions, as memberlist's do: a SWIM probe to a
/// peer never seen before must not cost a handshake, and a peer of a 10,000-peer swarm
/// cannot hold a session with everyone it probes. In a private swarm the swarm key makes
/// them unreadable and unforgeable to outsiders.
///
/// - Warning: holds the overlay key; it is immutable and safe to share.
public struct OverlayEnvelope: Sendable {
    let key: SwarmSealKey?
    let tag: [UInt8]

    /// Creates the envelope of a swarm.
    /// - Parameters:
    ///   - swarmID: the 32-byte swarm ID.
    ///   - swarmSecret: the 32-byte secret, or nil for an open swarm.
    public init(swarmID: [UInt8], swarmSecret: [UInt8]?) {
        key = swarmSecret.map { SwarmSealKey(swarmID: swarmID, swarmSecret: $0, domain: OverlayConstants.keyDomain) }
        Sodium.ensureReady()
        let message = OverlayConstants.keyDomain + swarmID
        var digest = [UInt8](repeating: 0, count: 32)
        crypto_generichash(&digest, 32, message, UInt64(message.count), nil, 0)
        tag = Array(digest[0..<OverlayConstants.swarmTagSize])
    }

    /// Whether datagrams are sealed.
    public var isSealed: Bool { key != nil }

    /// The bytes this envelope adds to a message.
    public var overhead: Int { isSealed ? OverlayConstants.sealedOverhead : OverlayConstants.openOverhead }

    /// Encodes `message` of `protocolKind` as a whole datagram into `buffer`.
    ///
    /// - Parameters:
    ///   - protocolKind: whose message it is.
    ///   - message: the message's bytes.
    ///   - sentAt: the sender's wall-clock time (carried only when sealed).
    ///   - buffer: replaced by the datagram (its capacity is kept).
    ///   - generator: the source of the random nonce (unused when open).
    public func encode(
        _ protocolKind: OverlayProtocol, _ message: [UInt8], sentAt: UnixTime, into buffer: inout [UInt8],
        using generator: inout some RandomNumberGenerator
    ) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(DatagramHeader.currentVersion)
        buffer.append(MessageType.overlay.rawValue)
        guard let key else {
            buffer.append(OverlayConstants.modeOpen)
            buffer.append(contentsOf: tag)
            buffer.append(protocolKind.rawValue)
            buffer.append(contentsOf: message)
            return
        }
        buffer.append(OverlayConstants.modeSealed)
        let prefix = Array(buffer)
        let nonce = SwarmSealKey.makeNonce(using: &generator)
        var plain = ByteWriter(capacity: OverlayConstants.sentAtSize + 1 + message.count)
        plain.write(sentAt.seconds)
        plain.write(protocolKind.rawValue)
        plain.write(bytes: message)
        buffer.append(contentsOf: nonce)
        buffer.append(contentsOf: key.seal(nonce: nonce, ad: prefix, plaintext: plain.bytes))
    }

    /// Decodes a whole overlay datagram, opening it when sealed.
    ///
    /// - Parameters:
    ///   - bytes: the datagram, header included.
    ///   - now: the receiver's wall-clock time, for the replay window of sealed datagrams.
    /// - Returns: the protocol and its message.
    /// - Throws: the ``OverlayDrop`` that explains the refusal.
    public func decode(_ bytes: UnsafeRawBufferPointer, now: UnixTime) throws(OverlayDrop) -> (
        protocolKind: OverlayProtocol, message: ArraySlice<UInt8>
    ) {
        let opened = try open(bytes, now: now)
        return (opened.protocolKind, opened.message)
    }

    /// Decodes a whole overlay datagram as ``decode(_:now:)`` does, and also returns
    /// the sender's time of a sealed one (nil when open), for the replay cache.
    func open(_ bytes: UnsafeRawBufferPointer, now: UnixTime) throws(OverlayDrop) -> (
        protocolKind: OverlayProtocol, message: ArraySlice<UInt8>, sentAt: UnixTime?
    ) {
        let prefixSize = OverlayConstants.prefixSize
        guard bytes.count > prefixSize, bytes.count <= OverlayConstants.maximumDatagramSize,
            bytes[0] == DatagramHeader.currentVersion, bytes[1] == MessageType.overlay.rawValue
        else { throw .malformed }
        let mode = bytes[2]
        guard mode == OverlayConstants.modeOpen || mode == OverlayConstants.modeSealed else { throw .malformed }
        guard (mode == OverlayConstants.modeSealed) == isSealed else { throw .wrongMode }
        guard let key else {
            let tagEnd = prefixSize + OverlayConstants.swarmTagSize
            guard bytes.count > tagEnd else { throw .malformed }
            guard bytes[prefixSize..<tagEnd].elementsEqual(tag) else { throw .wrongSwarm }
            return (try Self.protocolKind(bytes[tagEnd]), Array(bytes[(tagEnd + 1)...])[...], nil)
        }
        let nonceEnd = prefixSize + SwarmSealKey.nonceSize
        guard bytes.count >= nonceEnd + SwarmSealKey.tagSize + OverlayConstants.sentAtSize + 1 else {
            throw .malformed
        }
        guard
            let plain = key.open(
                nonce: Array(bytes[prefixSize..<nonceEnd]), ad: Array(bytes[0..<prefixSize]),
                ciphertext: Array(bytes[nonceEnd...]))
        else { throw .unauthentic }
        var reader = ByteReader(plain)
        guard let seconds = try? reader.readUInt64(), let kind = try? reader.readUInt8() else { throw .malformed }
        let sentAt = UnixTime(seconds: seconds)
        let window = UInt64(OverlayConstants.replayWindow.components.seconds)
        let gap = sentAt > now ? sentAt.seconds - now.seconds : now.seconds - sentAt.seconds
        guard gap <= window else { throw .stale }
        return (try Self.protocolKind(kind), plain[(OverlayConstants.sentAtSize + 1)...], sentAt)
    }

    /// The protocol of byte `raw`.
    private static func protocolKind(_ raw: UInt8) throws(OverlayDrop) -> OverlayProtocol {
        guard let kind = OverlayProtocol(rawValue: raw) else { throw .unknownProtocol }
        return kind
    }
}
