/// The second byte of every Starling datagram: what the rest of it holds.
///
/// ONLY APPEND — values are protocol. A retired type keeps its number forever.
public enum MessageType: UInt8, Sendable, CaseIterable {
    /// A signed peer record (``SignedPeerRecord``), as announced or passed on.
    case peerRecord = 0x01
    /// The first handshake message: a Noise IK or XX message 1 (``HandshakeInitiation``).
    case handshakeInitiation = 0x02
    /// The responder's Noise message 2 (``HandshakeResponse``).
    case handshakeResponse = 0x03
    /// The initiator's Noise XX message 3 (``HandshakeCompletion``).
    case handshakeCompletion = 0x04
    /// Encrypted transport data of an established session (``TransportHeader``).
    case transportData = 0x05
    /// A LAN discovery beacon carrying the sender's signed record (``DiscoveryMessage/beacon(_:)``).
    case beacon = 0x06
    /// A LAN discovery query for one peer's record (``DiscoveryMessage/whoHas(wanted:asker:)``).
    case whoHas = 0x07
    /// A LAN discovery answer passing on the wanted peer's record (``DiscoveryMessage/iHave(_:)``).
    case iHave = 0x08
    /// A membership, routing or spreading message of the overlay (``OverlayEnvelope``).
    case overlay = 0x09
    /// A responder's encrypted cookie, sent instead of processing an initiation under
    /// load (``CookieReply``).
    case cookieReply = 0x0A
}
