internal import CSodium

/// A responder's answer to an initiation it will not process now (it is under load, or
/// the source spent its handshake allowance): an encrypted cookie for the initiator's
/// source address, instead of any Diffie-Hellman work or state (WireGuard whitepaper 5.4.7).
///
/// ```
/// 0      1      2               6               30
/// | ver  | 0x0a | receiver u32  | nonce [24]    | encrypted cookie [16 + 16-byte tag]
/// ```
/// The receiver index is the initiation's sender index. The cookie is sealed with
/// XChaCha20-Poly1305 under the responder's cookie key
/// (``HandshakeMAC/cookieKey(kind:swarmID:secret:receiver:)``), with the initiation's
/// `mac1` as associated data, so only the one who sent that initiation can use it. The
/// reply (62 bytes) is shorter than any initiation it answers.
public struct CookieReply: Equatable, Sendable {
    /// Size of the datagram.
    public static let size = DatagramHeader.size + 4 + nonceSize + HandshakeMAC.size + tagSize
    /// Size of the XChaCha20 nonce (the sealing of ``SwarmSealKey``'s).
    public static let nonceSize = SwarmSealKey.nonceSize
    /// Size of the Poly1305 tag.
    public static let tagSize = SwarmSealKey.tagSize

    /// The initiator's index, from the initiation.
    public var receiverIndex: UInt32
    /// The random nonce.
    public var nonce: [UInt8]
    /// The encrypted cookie and its tag.
    public var encryptedCookie: [UInt8]

    /// Creates a reply from its fields.
    public init(receiverIndex: UInt32, nonce: [UInt8], encryptedCookie: [UInt8]) {
        self.receiverIndex = receiverIndex
        self.nonce = nonce
        self.encryptedCookie = encryptedCookie
    }

    /// Seals `cookie` for the initiator of a message whose `mac1` is `mac1`.
    static func seal(
        cookie: [UInt8], receiverIndex: UInt32, key: [UInt8], mac1: [UInt8], nonce: [UInt8]
    ) -> CookieReply {
        Sodium.ensureReady()
        var sealed = [UInt8](repeating: 0, count: HandshakeMAC.size + tagSize)
        var length: UInt64 = 0
        _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
            &sealed, &length, cookie, UInt64(cookie.count), mac1, UInt64(mac1.count), nil, nonce, key)
        return CookieReply(receiverIndex: receiverIndex, nonce: nonce, encryptedCookie: sealed)
    }

    /// The cookie, if the reply opens under `key` with `mac1` as associated data.
    func open(key: [UInt8], mac1: [UInt8]) -> [UInt8]? {
        Sodium.ensureReady()
        var cookie = [UInt8](repeating: 0, count: HandshakeMAC.size)
        var length: UInt64 = 0
        let result = crypto_aead_xchacha20poly1305_ietf_decrypt(
            &cookie, &length, nil, encryptedCookie, UInt64(encryptedCookie.count), mac1, UInt64(mac1.count), nonce,
            key)
        return result == 0 && length == UInt64(HandshakeMAC.size) ? cookie : nil
    }

    /// The datagram's bytes.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.size)
        DatagramHeader(type: .cookieReply).encode(into: &writer)
        writer.write(receiverIndex)
        writer.write(bytes: nonce)
        writer.write(bytes: encryptedCookie)
        return writer.bytes
    }

    /// Decodes the body that follows a ``DatagramHeader`` of type ``MessageType/cookieReply``.
    /// - Throws: ``WireError`` unless the body is exactly 60 bytes.
    public static func decode(body reader: inout ByteReader) throws(WireError) -> CookieReply {
        let receiver = try reader.readUInt32()
        let nonce = try reader.readBytes(nonceSize)
        let sealed = try reader.readBytes(HandshakeMAC.size + tagSize)
        guard reader.remaining == 0 else {
            throw .trailingBytes(count: reader.remaining)
        }
        return CookieReply(receiverIndex: receiver, nonce: Array(nonce), encryptedCookie: Array(sealed))
    }
}

/// The responder's side of cookies: the secret that makes them, replaced every
/// ``SessionConstants/cookieRefreshTime``; a cookie made under the previous secret
/// stays valid until the next replacement.
struct CookieSecrets: Sendable {
    /// The secret cookies are made with now; nil until the first is needed.
    private var current: [UInt8]?
    /// The secret before it.
    private var previous: [UInt8]?
    /// When ``current`` was made.
    private var madeAt = Instant.zero

    /// Replaces the secret when it is older than ``SessionConstants/cookieRefreshTime``.
    private mutating func refresh(now: Instant, random: inout some RandomNumberGenerator) {
        guard current == nil || now - madeAt >= SessionConstants.cookieRefreshTime else { return }
        previous = current
        current = (0..<4).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } }
        madeAt = now
    }

    /// The cookie for `source` under the current secret.
    mutating func cookie(for source: PeerAddress, now: Instant, random: inout some RandomNumberGenerator) -> [UInt8] {
        refresh(now: now, random: &random)
        return HandshakeMAC.cookie(for: source, secret: current!)
    }

    /// Whether `datagram` carries at `offset` a `mac2` made with a cookie for `source`
    /// under the current or previous secret.
    func verifyMAC2(_ datagram: UnsafeRawBufferPointer, at offset: Int, source: PeerAddress, now: Instant) -> Bool {
        guard let current else { return false }
        // Cookies live one refresh time after they are made: the current secret checks
        // them for two, the previous one until the current is one refresh time old.
        let age = now - madeAt
        let currentValid = age < SessionConstants.cookieRefreshTime * 2
        let previousValid = age < SessionConstants.cookieRefreshTime
        for secret in [currentValid ? current : nil, previousValid ? previous : nil].compactMap({ $0 }) {
            let cookie = HandshakeMAC.cookie(for: source, secret: secret)
            if HandshakeMAC.verify(datagram, macAt: offset, key: cookie) { return true }
        }
        return false
    }
}
