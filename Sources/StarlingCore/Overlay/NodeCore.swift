/// The whole protocol core of one peer's socket: sessions and RPC (``PeerCore``) and,
/// when enabled, the overlay (``OverlayCore``), told apart by the datagram type byte.
///
/// Overlay datagrams (``MessageType/overlay``) go to the overlay; everything else to the
/// session layer, which counts what it cannot use. Without an overlay, overlay datagrams
/// reach the session layer too and are dropped there as an unknown type.
///
/// - Warning: not thread-safe; drive it from one event loop or task at a time.
public struct NodeCore: ProtocolCore, Sendable {
    /// What either part reports.
    public enum Event: Sendable {
        /// A session, datagram or RPC event.
        case peer(PeerEvent)
        /// A membership, routing or spreading event.
        case overlay(OverlayEvent)
    }

    /// Sessions and RPC.
    public var peer: PeerCore
    /// The overlay, when this peer takes part in one.
    public var overlay: OverlayCore?

    /// Creates the core of one socket.
    public init(peer: PeerCore, overlay: OverlayCore?) {
        self.peer = peer
        self.overlay = overlay
    }

    public mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        if datagram.count >= DatagramHeader.size, datagram[1] == MessageType.overlay.rawValue, overlay != nil {
            overlay!.handleDatagram(datagram, from: source, now: now)
        } else {
            peer.handleDatagram(datagram, from: source, now: now)
        }
    }

    public mutating func noteLoad(_ load: DriverLoad, now: Instant) {
        if case .some = overlay { overlay!.noteLoad(load, now: now) }
    }

    public mutating func handleTimeout(now: Instant) {
        if let due = peer.pollTimeout(), due <= now { peer.handleTimeout(now: now) }
        if let due = overlay?.pollTimeout(), due <= now { overlay!.handleTimeout(now: now) }
    }

    public mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        if let destination = peer.pollTransmit(now: now, into: &buffer) { return destination }
        return overlay?.pollTransmit(now: now, into: &buffer)
    }

    public func pollTimeout() -> Instant? {
        switch (peer.pollTimeout(), overlay?.pollTimeout()) {
        case (let first?, let second?): min(first, second)
        case (let first, nil): first
        case (nil, let second): second
        }
    }

    public mutating func pollEvent() -> Event? {
        if let event = peer.pollEvent() { return .peer(event) }
        return overlay?.pollEvent().map { .overlay($0) }
    }
}
