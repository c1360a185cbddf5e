/// LAN discovery's fixed values.
///
/// "Specification" values are protocol (`docs/PROTOCOL.md`, "LAN discovery"): changing
/// one breaks interoperability. "Implementation" values are Starling's own policy.
public enum DiscoveryConstants {
    // MARK: Specification

    /// The mode byte of an open-swarm discovery message: the payload in the clear.
    public static let modeOpen: UInt8 = 0x00
    /// The mode byte of a private-swarm discovery message: nonce, then the sealed payload.
    public static let modeSealed: UInt8 = 0x01
    /// Bytes before the body: version, type, mode.
    public static let prefixSize = DatagramHeader.size + 1
    /// Bytes of the XChaCha20-Poly1305 nonce a sealed message carries (192 bits, random).
    public static let nonceSize = 24
    /// Bytes of the Poly1305 tag at the end of a sealed message.
    public static let tagSize = 16
    /// Bytes of the sender's Unix time that opens a sealed plaintext.
    public static let sentAtSize = 8
    /// Bytes a sealed message adds to the open payload: nonce, time, tag.
    public static let sealOverhead = nonceSize + sentAtSize + tagSize
    /// The domain string of the swarm key derivation:
    /// `key = BLAKE2b-256(key: swarm secret, message: domain ‖ swarm ID)`.
    public static let keyDomain: [UInt8] = Array("starling/discovery/v1".utf8) + [0]
    /// Bytes of the derived discovery key.
    public static let keySize = 32
    /// Largest discovery datagram a receiver reads: the largest query (prefix, seal
    /// overhead, peer ID, largest signed record) is 3 + 48 + 32 + 795 = 878 bytes.
    public static let maximumDatagramSize =
        prefixSize + sealOverhead + Key32.size + RecordConstants.maximumSignedSize
    /// A sealed message is accepted only when its sender's time is within this much of
    /// the receiver's (either way); older captures are refused even before the
    /// sequence-number rule applies.
    public static let replayWindow: Duration = .seconds(60)

    // MARK: Implementation

    /// The default discovery port (IPv4 and IPv6).
    public static let defaultPort: UInt16 = 47077
    /// The default IPv4 group: `239.255.77.77`, in the organisation-local scope
    /// (RFC 2365), so routers at the site's edge never forward it.
    public static let defaultIPv4Group = PeerAddress.ipv4(239, 255, 77, 77, port: defaultPort)
    /// The default IPv6 group: `ff02::7777`, link-local scope (RFC 4291 section 2.7).
    public static let defaultIPv6Group = PeerAddress(
        host: .ipv6(high: 0xff02_0000_0000_0000, low: 0x7777), port: defaultPort)
    /// Most datagrams waiting in the outbox; older ones are dropped beyond it.
    public static let maximumOutbox = 256
    /// How often the core forgets refilled rate-limit buckets and expired records.
    public static let housekeepingInterval: Duration = .seconds(10)
}
