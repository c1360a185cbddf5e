/// Wraps discovery payloads in datagrams: in the clear for an open swarm, sealed with
/// XChaCha20-Poly1305 under the swarm's discovery key for a private one.
///
/// ### Wire form
/// `version ‖ type ‖ mode ‖ body`. Open (`mode 0x00`): body = payload. Sealed
/// (`mode 0x01`): body = nonce (24 random bytes) ‖ AEAD(key, nonce, ad: version ‖ type ‖ mode,
/// plaintext: sentAt u64 ‖ payload). The key is
/// `BLAKE2b-256(key: swarm secret, message: "starling/discovery/v1" 0x00 ‖ swarm ID)`.
///
/// - Warning: the envelope holds the discovery key; it is immutable and safe to share.
public struct DiscoveryEnvelope: Sendable {
    /// The discovery key of a private swarm, nil for an open one.
    let key: SwarmSealKey?

    /// Creates the envelope of a swarm.
    /// - Parameters:
    ///   - swarmID: the 32-byte swarm ID.
    ///   - swarmSecret: the 32-byte secret, or nil for an open swarm.
    public init(swarmID: [UInt8], swarmSecret: [UInt8]?) {
        key = swarmSecret.map {
            SwarmSealKey(swarmID: swarmID, swarmSecret: $0, domain: DiscoveryConstants.keyDomain)
        }
    }

    /// Whether messages are sealed.
    public var isSealed: Bool { key != nil }

    /// The raw derived key bytes, for the key derivation's tests.
    static func deriveKeyBytes(swarmID: [UInt8], swarmSecret: [UInt8]) -> [UInt8] {
        SwarmSealKey.deriveBytes(swarmID: swarmID, swarmSecret: swarmSecret, domain: DiscoveryConstants.keyDomain)
    }

    /// Encodes `message` as a whole datagram.
    ///
    /// - Parameters:
    ///   - message: the payload.
    ///   - sentAt: the sender's wall-clock time (carried, authenticated, only when sealed).
    ///   - generator: the source of the random nonce (unused when open).
    /// - Returns: the datagram.
    public func encode(_ message: DiscoveryMessage, sentAt: UnixTime, using generator: inout some RandomNumberGenerator)
        -> [UInt8]
    {
        var writer = ByteWriter(capacity: DiscoveryConstants.maximumDatagramSize)
        DatagramHeader(type: message.type).encode(into: &writer)
        guard let key else {
            writer.write(DiscoveryConstants.modeOpen)
            message.encodePayload(into: &writer)
            return writer.bytes
        }
        writer.write(DiscoveryConstants.modeSealed)
        let prefix = writer.bytes
        let nonce = SwarmSealKey.makeNonce(using: &generator)
        var plain = ByteWriter()
        plain.write(sentAt.seconds)
        message.encodePayload(into: &plain)
        writer.write(bytes: nonce)
        writer.write(bytes: key.seal(nonce: nonce, ad: prefix, plaintext: plain.bytes))
        return writer.bytes
    }

    /// Decodes a whole discovery datagram, opening it when sealed.
    ///
    /// - Parameter bytes: the datagram.
    /// - Returns: the message and, for a sealed one, the sender's time.
    /// - Throws: the ``DiscoveryDrop`` that explains the refusal.
    public func decode(_ bytes: [UInt8]) throws(DiscoveryDrop) -> (message: DiscoveryMessage, sentAt: UnixTime?) {
        guard bytes.count <= DiscoveryConstants.maximumDatagramSize else { throw .malformed }
        var reader = ByteReader(bytes)
        let header: DatagramHeader
        let mode: UInt8
        do {
            header = try DatagramHeader.decode(from: &reader)
            mode = try reader.readUInt8()
        } catch .unsupportedVersion {
            throw .unsupportedVersion
        } catch .unknownMessageType {
            throw .unknownType
        } catch {
            throw .malformed
        }
        guard [.beacon, .whoHas, .iHave].contains(header.type) else { throw .unknownType }
        guard mode == (key == nil ? DiscoveryConstants.modeOpen : DiscoveryConstants.modeSealed) else {
            throw mode == DiscoveryConstants.modeOpen || mode == DiscoveryConstants.modeSealed ? .wrongMode : .malformed
        }
        guard let key else { return (try Self.payload(type: header.type, from: &reader), nil) }
        let prefix = Array(bytes[0..<DiscoveryConstants.prefixSize])
        guard let nonce = try? reader.readBytes(DiscoveryConstants.nonceSize) else { throw .malformed }
        guard let plain = key.open(nonce: Array(nonce), ad: prefix, ciphertext: Array(reader.readRest()))
        else { throw .unauthentic }
        var inner = ByteReader(plain)
        guard let seconds = try? inner.readUInt64() else { throw .malformed }
        return (try Self.payload(type: header.type, from: &inner), UnixTime(seconds: seconds))
    }

    /// The payload at `reader`, with any wire error reported as ``DiscoveryDrop/malformed``.
    private static func payload(type: MessageType, from reader: inout ByteReader) throws(DiscoveryDrop)
        -> DiscoveryMessage
    {
        do {
            return try DiscoveryMessage.decodePayload(type: type, from: &reader)
        } catch {
            throw .malformed
        }
    }
}
