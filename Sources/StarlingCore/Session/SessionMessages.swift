/// Which Noise handshake a session uses; the third byte of every initiation and response.
///
/// ONLY APPEND — values are protocol.
public enum HandshakeKind: UInt8, Sendable, CaseIterable {
    /// `Noise_IK_25519_ChaChaPoly_BLAKE2b`: the initiator knows the responder's key.
    case ik = 0x01
    /// `Noise_XX_25519_ChaChaPoly_BLAKE2b`: neither side knows the other's key yet.
    case xx = 0x02
    /// `Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b`: IK in a private swarm (the swarm secret is the psk).
    case ikPSK2 = 0x03
    /// `Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b`: XX in a private swarm.
    case xxPSK3 = 0x04

    /// The full Noise protocol name.
    public var protocolName: String {
        switch self {
        case .ik: "Noise_IK_25519_ChaChaPoly_BLAKE2b"
        case .xx: "Noise_XX_25519_ChaChaPoly_BLAKE2b"
        case .ikPSK2: "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b"
        case .xxPSK3: "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b"
        }
    }

    /// The parsed ``protocolName``, parsed once per kind.
    var noiseProtocol: NoiseProtocol {
        switch self {
        case .ik: Self.protocols.ik
        case .xx: Self.protocols.xx
        case .ikPSK2: Self.protocols.ikPSK2
        case .xxPSK3: Self.protocols.xxPSK3
        }
    }

    /// Every kind's protocol; the names are constants that parse.
    private static let protocols = (
        ik: try! NoiseProtocol(name: HandshakeKind.ik.protocolName),
        xx: try! NoiseProtocol(name: HandshakeKind.xx.protocolName),
        ikPSK2: try! NoiseProtocol(name: HandshakeKind.ikPSK2.protocolName),
        xxPSK3: try! NoiseProtocol(name: HandshakeKind.xxPSK3.protocolName)
    )

    /// Whether the pattern mixes in a pre-shared key (the swarm secret).
    public var usesPresharedKey: Bool { self == .ikPSK2 || self == .xxPSK3 }

    /// Number of Noise messages in the handshake.
    public var messageCount: Int { self == .xx || self == .xxPSK3 ? 3 : 2 }

    /// The kind to use given whether the responder's key is known and whether the swarm
    /// has a secret.
    public static func choose(knowsResponderKey: Bool, hasSwarmSecret: Bool) -> HandshakeKind {
        switch (knowsResponderKey, hasSwarmSecret) {
        case (true, false): .ik
        case (false, false): .xx
        case (true, true): .ikPSK2
        case (false, true): .xxPSK3
        }
    }
}

/// A handshake initiation: header, handshake kind, the initiator's session index,
/// Noise message 1 unchanged, then the admission MACs (``HandshakeMAC``).
///
/// ```
/// 0      1      2      3             7                      n-32        n-16
/// | ver  | 0x02 | kind | sender u32  | Noise message 1 ...  | mac1 [16] | mac2 [16] |
/// ```
public struct HandshakeInitiation: Equatable, Sendable {
    /// Bytes before the Noise message.
    public static let headerSize = DatagramHeader.size + 1 + 4
    /// Bytes after the Noise message: `mac1` and `mac2`.
    public static let trailerSize = 2 * HandshakeMAC.size

    /// The Noise pattern in use.
    public var kind: HandshakeKind
    /// The initiator's index for this session: the responder puts it in every packet
    /// it sends back.
    public var senderIndex: UInt32
    /// Noise message 1, exactly as the Noise specification defines it.
    public var noiseMessage: [UInt8]
    /// `mac1`: keyed BLAKE2b-128 of everything before it (``HandshakeMAC``).
    public var mac1: [UInt8]
    /// `mac2`: keyed by a cookie, or all zero without one.
    public var mac2: [UInt8]

    /// Creates an initiation; the MACs are zero until stamped.
    public init(
        kind: HandshakeKind, senderIndex: UInt32, noiseMessage: [UInt8],
        mac1: [UInt8] = [UInt8](repeating: 0, count: 16),
        mac2: [UInt8] = [UInt8](repeating: 0, count: 16)
    ) {
        self.kind = kind
        self.senderIndex = senderIndex
        self.noiseMessage = noiseMessage
        self.mac1 = mac1
        self.mac2 = mac2
    }

    /// Offset of `mac1` in a datagram of `count` bytes (`mac2` follows it).
    static func mac1Offset(count: Int) -> Int { count - trailerSize }

    /// The datagram's bytes, with the MACs as they are.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.headerSize + noiseMessage.count + Self.trailerSize)
        DatagramHeader(type: .handshakeInitiation).encode(into: &writer)
        writer.write(kind.rawValue)
        writer.write(senderIndex)
        writer.write(bytes: noiseMessage)
        writer.write(bytes: mac1)
        writer.write(bytes: mac2)
        return writer.bytes
    }

    /// Decodes the body that follows a ``DatagramHeader`` of type
    /// ``MessageType/handshakeInitiation``; the MACs are read, not checked.
    /// - Throws: ``WireError`` for an unknown kind, a truncated header or trailer, or a
    ///   Noise message longer than ``SessionLimits/maximumNoiseMessage``.
    public static func decode(body reader: inout ByteReader) throws(WireError) -> HandshakeInitiation {
        let kind = try readKind(&reader)
        let sender = try reader.readUInt32()
        let noise = try readNoiseMessage(&reader, trailer: trailerSize)
        let mac1 = Array(try reader.readBytes(HandshakeMAC.size))
        let mac2 = Array(try reader.readBytes(HandshakeMAC.size))
        return HandshakeInitiation(kind: kind, senderIndex: sender, noiseMessage: noise, mac1: mac1, mac2: mac2)
    }
}

/// A handshake response: header, kind, the initiator's index (receiver), the
/// responder's own index (sender), Noise message 2 unchanged, then `mac1`
/// (``HandshakeMAC``).
///
/// ```
/// 0      1      2      3               7             11                     n-16
/// | ver  | 0x03 | kind | receiver u32  | sender u32  | Noise message 2 ...  | mac1 [16] |
/// ```
public struct HandshakeResponse: Equatable, Sendable {
    /// Bytes before the Noise message.
    public static let headerSize = DatagramHeader.size + 1 + 4 + 4
    /// Bytes after the Noise message: `mac1`.
    public static let trailerSize = HandshakeMAC.size

    /// The Noise pattern in use.
    public var kind: HandshakeKind
    /// The initiator's index, from the initiation.
    public var receiverIndex: UInt32
    /// The responder's index for this session.
    public var senderIndex: UInt32
    /// Noise message 2.
    public var noiseMessage: [UInt8]
    /// `mac1`: keyed BLAKE2b-128 of everything before it (``HandshakeMAC``).
    public var mac1: [UInt8]

    /// Creates a response; `mac1` is zero until stamped.
    public init(
        kind: HandshakeKind, receiverIndex: UInt32, senderIndex: UInt32, noiseMessage: [UInt8],
        mac1: [UInt8] = [UInt8](repeating: 0, count: 16)
    ) {
        self.kind = kind
        self.receiverIndex = receiverIndex
        self.senderIndex = senderIndex
        self.noiseMessage = noiseMessage
        self.mac1 = mac1
    }

    /// The datagram's bytes, with `mac1` as it is.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.headerSize + noiseMessage.count + Self.trailerSize)
        DatagramHeader(type: .handshakeResponse).encode(into: &writer)
        writer.write(kind.rawValue)
        writer.write(receiverIndex)
        writer.write(senderIndex)
        writer.write(bytes: noiseMessage)
        writer.write(bytes: mac1)
        return writer.bytes
    }

    /// Decodes the body that follows a ``DatagramHeader`` of type
    /// ``MessageType/handshakeResponse``.
    /// - Throws: ``WireError``.
    public static func decode(body reader: inout ByteReader) throws(WireError) -> HandshakeResponse {
        let kind = try readKind(&reader)
        let receiver = try reader.readUInt32()
        let sender = try reader.readUInt32()
        let noise = try readNoiseMessage(&reader, trailer: trailerSize)
        let mac1 = Array(try reader.readBytes(HandshakeMAC.size))
        return HandshakeResponse(
            kind: kind, receiverIndex: receiver, senderIndex: sender, noiseMessage: noise, mac1: mac1)
    }
}

/// The third message of an XX handshake: header, the responder's index (receiver), then
/// Noise message 3 unchanged.
///
/// ```
/// 0      1      2               6
/// | ver  | 0x04 | receiver u32  | Noise message 3 ...
/// ```
public struct HandshakeCompletion: Equatable, Sendable {
    /// Bytes before the Noise message.
    public static let headerSize = DatagramHeader.size + 4

    /// The responder's index, from the response.
    public var receiverIndex: UInt32
    /// Noise message 3.
    public var noiseMessage: [UInt8]

    /// Creates a completion.
    public init(receiverIndex: UInt32, noiseMessage: [UInt8]) {
        self.receiverIndex = receiverIndex
        self.noiseMessage = noiseMessage
    }

    /// The datagram's bytes.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.headerSize + noiseMessage.count)
        DatagramHeader(type: .handshakeCompletion).encode(into: &writer)
        writer.write(receiverIndex)
        writer.write(bytes: noiseMessage)
        return writer.bytes
    }

    /// Decodes the body that follows a ``DatagramHeader`` of type
    /// ``MessageType/handshakeCompletion``.
    /// - Throws: ``WireError``.
    public static func decode(body reader: inout ByteReader) throws(WireError) -> HandshakeCompletion {
        let receiver = try reader.readUInt32()
        return HandshakeCompletion(receiverIndex: receiver, noiseMessage: try readNoiseMessage(&reader))
    }
}

/// The fixed header of a transport data packet; the ciphertext follows it.
///
/// ```
/// 0      1      2               6                  14
/// | ver  | 0x05 | receiver u32  | counter u64      | ChaCha20-Poly1305 ciphertext + 16-byte tag
/// ```
/// The 14 header bytes are the AEAD's associated data, so none of them can be changed
/// in transit; the counter is also the AEAD nonce (Noise's ChaChaPoly nonce layout).
/// Parsing works on borrowed bytes and allocates nothing: this is the hot path.
public struct TransportHeader: Equatable, Sendable {
    /// Size of the header.
    public static let size = DatagramHeader.size + 4 + 8
    /// Size of the authentication tag after the ciphertext.
    public static let tagSize = 16

    /// The receiver's session index.
    public var receiverIndex: UInt32
    /// The packet counter (and AEAD nonce).
    public var counter: UInt64

    /// Creates a header.
    public init(receiverIndex: UInt32, counter: UInt64) {
        self.receiverIndex = receiverIndex
        self.counter = counter
    }

    /// Parses the header of a transport datagram, or returns nil when it is too short
    /// to hold a header and a tag. The caller has already checked version and type.
    public static func parse(_ datagram: UnsafeRawBufferPointer) -> TransportHeader? {
        guard datagram.count >= size + tagSize else { return nil }
        let receiver = UInt32(bigEndian: datagram.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        let counter = UInt64(bigEndian: datagram.loadUnaligned(fromByteOffset: 6, as: UInt64.self))
        return TransportHeader(receiverIndex: receiver, counter: counter)
    }

    /// Appends the header's ``size`` bytes to `buffer`.
    public func append(to buffer: inout [UInt8]) {
        buffer.append(DatagramHeader.currentVersion)
        buffer.append(MessageType.transportData.rawValue)
        withUnsafeBytes(of: receiverIndex.bigEndian) { buffer.append(contentsOf: $0) }
        withUnsafeBytes(of: counter.bigEndian) { buffer.append(contentsOf: $0) }
    }
}

/// Size limits of session messages.
public enum SessionLimits {
    /// The longest Noise message Starling accepts in a handshake datagram. Noise allows
    /// 65535; handshakes carry small payloads, so anything longer is refused unread.
    public static let maximumNoiseMessage = 1024
    /// The largest UDP payload Starling sends: fits a 1280-byte IPv6 minimum MTU with
    /// the IPv6 (40) and UDP (8) headers and room for encapsulation.
    public static let maximumDatagram = 1200
    /// The largest user payload in one transport datagram.
    public static let maximumTransportPayload = maximumDatagram - TransportHeader.size - TransportHeader.tagSize
}

private func readKind(_ reader: inout ByteReader) throws(WireError) -> HandshakeKind {
    let offset = reader.offset
    guard let kind = HandshakeKind(rawValue: try reader.readUInt8()) else {
        throw .invalidValue(offset: offset, field: "handshake kind")
    }
    return kind
}

/// Reads the Noise message: everything left but the last `trailer` bytes.
private func readNoiseMessage(_ reader: inout ByteReader, trailer: Int = 0) throws(WireError) -> [UInt8] {
    let length = reader.remaining - trailer
    guard length >= 0 else { throw .truncated(offset: reader.offset, needed: trailer) }
    guard length <= SessionLimits.maximumNoiseMessage else {
        throw .lengthTooLarge(offset: reader.offset, length: length, maximum: SessionLimits.maximumNoiseMessage)
    }
    return Array(try reader.readBytes(length))
}
