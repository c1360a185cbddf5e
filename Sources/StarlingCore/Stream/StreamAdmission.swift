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
/// header ‖ u32 length ‖ kind ‖ Noise message 1 ‖ sentAt u64 ‖ mac [16]
/// mac = BLAKE2b-128(key, header ‖ u32 length ‖ kind ‖ Noise message 1 ‖ sentAt)
/// key = BLAKE2b-256(key = swarm secret, message = "starling/stream/v1" ‖ 0x00 ‖ swarm ID)
/// ```
///
/// The MAC covers every byte sent before it (the length prefix counts the time and the
/// MAC too); `sentAt` is the initiator's wall-clock time in Unix seconds, big-endian.
/// The key is derived as ``SwarmSealKey``'s (its own domain), the MAC is
/// ``HandshakeMAC``'s keyed BLAKE2b-128, compared in constant time. A responder whose
/// MAC check fails sends no byte and closes (``StreamError/invalidMAC``); so does one
/// whose own time is more than ``StreamConstants/openingWindow`` from `sentAt`
/// (``StreamError/staleOpening``), which bounds how long a captured first frame can be
/// replayed.
///
/// An open swarm has no admission: its streams open as before, without a MAC.
///
/// - Warning: holds key material derived from the swarm secret.
struct StreamAdmission: Sendable {
    /// Bytes of the MAC at the end of the initiator's first frame body.
    static let macSize = HandshakeMAC.size
    /// Bytes of the time before the MAC.
    static let sentAtSize = 8
    /// Bytes the admission adds to the first frame body: the time and the MAC.
    static let overhead = sentAtSize + macSize
    /// The key derivation's domain.
    static let keyDomain: [UInt8] = Array("starling/stream/v1".utf8) + [0]

    /// The MAC key.
    let key: [UInt8]

    /// The admission of a swarm with a secret.
    init(swarmID: [UInt8], swarmSecret: [UInt8]) {
        key = SwarmSealKey.deriveBytes(swarmID: swarmID, swarmSecret: swarmSecret, domain: Self.keyDomain)
    }

    /// What the responder makes of a first frame.
    enum Verdict: Equatable {
        /// The MAC and the time are good: the frame body without them.
        case admitted([UInt8])
        /// The MAC is missing or wrong.
        case invalidMAC
        /// The MAC is good but the time is outside the window.
        case stale
    }

    /// The initiator's opening: the stream header, then one frame whose body is `body`
    /// followed by `sentAt` and the MAC.
    func makeOpening(body: [UInt8], sentAt: UnixTime) -> [UInt8] {
        var time = [UInt8](repeating: 0, count: Self.sentAtSize)
        for index in 0..<Self.sentAtSize {
            time[index] = UInt8(truncatingIfNeeded: sentAt.seconds >> (8 * (Self.sentAtSize - 1 - index)))
        }
        var opening = [StreamConstants.header]
        StreamWire.appendFrame(body + time + [UInt8](repeating: 0, count: Self.macSize), to: &opening)
        HandshakeMAC.stamp(&opening, macAt: opening.count - Self.macSize, key: key)
        return opening
    }

    /// The responder's check of the initiator's first frame body, as the framer cut it
    /// (the header and the length prefix are rebuilt from it): the MAC first, then the
    /// time against `now`.
    func verify(firstFrame body: [UInt8], now: UnixTime) -> Verdict {
        guard body.count > Self.overhead else { return .invalidMAC }
        var opening = [StreamConstants.header]
        StreamWire.appendFrame(body, to: &opening)
        let authentic = opening.withUnsafeBytes {
            HandshakeMAC.verify($0, macAt: opening.count - Self.macSize, key: key)
        }
        guard authentic else { return .invalidMAC }
        let timeStart = body.count - Self.overhead
        let sentAt = body[timeStart..<timeStart + Self.sentAtSize].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard Self.isFresh(sentAt: UnixTime(seconds: sentAt), now: now) else { return .stale }
        return .admitted(Array(body[..<timeStart]))
    }

    /// Whether `sentAt` is within ``StreamConstants/openingWindow`` of `now`, either way.
    static func isFresh(sentAt: UnixTime, now: UnixTime) -> Bool {
        let window = UInt64(StreamConstants.openingWindow.components.seconds)
        let distance = sentAt > now ? sentAt.seconds - now.seconds : now.seconds - sentAt.seconds
        return distance <= window
    }
}
