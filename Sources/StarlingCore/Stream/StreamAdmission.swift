/// The swarm MAC that ends a private swarm's stream opening, checked by the responder
/// before it answers anything (the stream's counterpart of the datagram `mac1`).
///
/// ### Purpose
/// `XXpsk3` mixes the swarm secret in only at message 3, so a responder that answered
/// any message 1 would tell an outsider that a Starling peer listens, and its message 2
/// would show the outsider the responder's identity. With a swarm secret the initiator
/// therefore appends a MAC to its first frame body:
///
/// ```
/// header ‖ u32 length ‖ kind ‖ Noise message 1 ‖ mac [16]
/// mac = BLAKE2b-128(key, header ‖ u32 length ‖ kind ‖ Noise message 1)
/// key = BLAKE2b-256(key = swarm secret, message = "starling/stream/v1" ‖ 0x00 ‖ swarm ID)
/// ```
///
/// The MAC covers every byte sent before it (the length prefix counts the MAC too).
/// The key is derived as ``SwarmSealKey``'s (its own domain), the MAC is
/// ``HandshakeMAC``'s keyed BLAKE2b-128, compared in constant time. A responder whose
/// check fails sends no byte and closes: ``StreamError/invalidMAC``.
///
/// An open swarm has no admission: its streams open as before, without a MAC.
///
/// - Warning: holds key material derived from the swarm secret.
struct StreamAdmission: Sendable {
    /// Bytes of the MAC at the end of the initiator's first frame body.
    static let macSize = HandshakeMAC.size
    /// The key derivation's domain.
    static let keyDomain: [UInt8] = Array("starling/stream/v1".utf8) + [0]

    /// The MAC key.
    let key: [UInt8]

    /// The admission of a swarm with a secret.
    init(swarmID: [UInt8], swarmSecret: [UInt8]) {
        key = SwarmSealKey.deriveBytes(swarmID: swarmID, swarmSecret: swarmSecret, domain: Self.keyDomain)
    }

    /// The admission a configuration asks for: nil in an open swarm.
    init?(_ configuration: SessionConfiguration) {
        guard let secret = configuration.swarmSecret else { return nil }
        self.init(swarmID: configuration.swarmID, swarmSecret: secret)
    }

    /// The initiator's opening: the stream header, then one frame whose body is `body`
    /// followed by its MAC.
    func makeOpening(body: [UInt8]) -> [UInt8] {
        var opening = [StreamConstants.header]
        StreamWire.appendFrame(body + [UInt8](repeating: 0, count: Self.macSize), to: &opening)
        HandshakeMAC.stamp(&opening, macAt: opening.count - Self.macSize, key: key)
        return opening
    }

    /// The responder's check of the initiator's first frame body, as the framer cut it
    /// (the header and the length prefix are rebuilt from it).
    /// - Returns: the body without its MAC, or nil when the MAC is missing or wrong.
    func verify(firstFrame body: [UInt8]) -> [UInt8]? {
        guard body.count > Self.macSize else { return nil }
        var opening = [StreamConstants.header]
        StreamWire.appendFrame(body, to: &opening)
        let authentic = opening.withUnsafeBytes {
            HandshakeMAC.verify($0, macAt: opening.count - Self.macSize, key: key)
        }
        return authentic ? Array(body.dropLast(Self.macSize)) : nil
    }
}
