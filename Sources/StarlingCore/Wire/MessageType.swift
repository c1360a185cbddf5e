/// The second byte of every Starling datagram: what the rest of it holds.
///
/// ONLY APPEND — values are protocol. A retired type keeps its number forever.
public enum MessageType: UInt8, Sendable, CaseIterable {
    /// A signed peer record (``SignedPeerRecord``), as announced or passed on.
    case peerRecord = 0x01
}
