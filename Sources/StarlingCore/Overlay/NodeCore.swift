/// The whole protocol core of one peer's socket: sessions and RPC (``PeerCore``) and,
/// when enabled, the overlay (``OverlayCore``), told apart by the datagram type byte.
///
/// Overlay datagrams (``MessageType/overlay``) go to the overlay; everything else to the
/// session layer, which counts what it cannot use. Without an overlay, overlay datagrams
/// reach the session layer too and are dropped there as an unknown type. In the
/// super-peer topology, session datagrams to a peer reachable only through a super-peer
/// go out in relays, and relayed ones reach the session layer as if from their origin
/// (``OverlayCore/relaySessionDatagram(_:to:now:)``).
///
/// The overlay is changed only through this core (``installOverlay(_:)``,
/// ``withOverlay(_:)`` and the inputs), which keeps its next deadline at hand: the driver
/// asks for it after every input, and an overlay of hundreds of members should not be
/// walked (or copied) for it each time. After a change the deadline is worked out once,
/// when ``pollTransmit(now:into:)`` runs dry (``ProtocolCore``'s driving order), so a
/// batch of datagrams costs one walk, not one per datagram.
///
/// - Warning: not thread-safe; drive it from one event loop or task at a time.
public struct NodeCore: ProtocolCore, Sendable {
    /// What either part reports.
    public enum Event: Sendable {
        /// A session, datagram or RPC event.
        case peer(PeerEvent)
        /// A membership, routing or spreading event.
        case overlay(OverlayEvent)
        /// How an anycast request (``requestNearest(service:method:payload:timeout:now:)``)
        /// ended.
        case anycast(AnycastEvent)
    }

    /// Sessions and RPC.
    public var peer: PeerCore
    /// The overlay, when this peer takes part in one.
    public private(set) var overlay: OverlayCore?
    /// Whether ``overlay`` is set (read without touching the overlay itself).
    public private(set) var hasOverlay: Bool
    /// The overlay's ``OverlayCore/pollTimeout()`` as of ``overlayDeadlineIsCurrent``.
    private var overlayDeadline: Instant?
    /// Whether the overlay is unchanged since ``overlayDeadline`` was worked out.
    private var overlayDeadlineIsCurrent = true
    /// A relayed session datagram on its way to the session layer; reused.
    private var relayed: [UInt8] = []
    /// Anycast requests in flight, and the events held while they are.
    var anycast = AnycastCalls()

    /// Creates the core of one socket.
    public init(peer: PeerCore, overlay: OverlayCore?) {
        self.peer = peer
        self.overlay = overlay
        self.hasOverlay = overlay != nil
        self.overlayDeadline = overlay?.pollTimeout()
    }

    /// Installs (or, with `nil`, removes) the overlay.
    public mutating func installOverlay(_ overlay: OverlayCore?) {
        self.overlay = overlay
        hasOverlay = overlay != nil
        overlayDeadline = overlay?.pollTimeout()
    }

    /// Runs `body` with the overlay (a command), or returns `nil` without one.
    public mutating func withOverlay<Result>(_ body: (inout OverlayCore) throws -> Result) rethrows -> Result? {
        guard hasOverlay else { return nil }
        overlayDeadlineIsCurrent = false
        return try body(&overlay!)
    }

    public mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        if hasOverlay, datagram.count >= DatagramHeader.size, datagram[1] == MessageType.overlay.rawValue {
            overlay!.handleDatagram(datagram, from: source, now: now)
            overlayDeadlineIsCurrent = false
            // Session datagrams relayed by a super-peer, as if from their origin.
            while let origin = overlay!.pollRelayedDatagram(into: &relayed) {
                relayed.withUnsafeBytes { peer.handleDatagram($0, from: origin, now: now) }
            }
            retryHandshakesThroughNewRelays(now: now)
        } else {
            peer.handleDatagram(datagram, from: source, now: now)
        }
        advanceAnycasts(now: now)
    }

    public mutating func noteLoad(_ load: DriverLoad, now: Instant) {
        guard hasOverlay else { return }
        overlay!.noteLoad(load, now: now)
        overlayDeadlineIsCurrent = false
    }

    public mutating func handleTimeout(now: Instant) {
        if let due = peer.pollTimeout(), due <= now { peer.handleTimeout(now: now) }
        refreshOverlayDeadline()
        if let due = overlayDeadline, due <= now {
            overlay!.handleTimeout(now: now)
            overlayDeadlineIsCurrent = false
            retryHandshakesThroughNewRelays(now: now)
        }
        advanceAnycasts(now: now)
        if !anycast.calls.isEmpty { expireAnycastAttempts(now: now) }
    }

    public mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        while let destination = peer.pollTransmit(now: now, into: &buffer) {
            guard hasOverlay else { return destination }
            // A peer reached only through a super-peer gets its datagrams in relays,
            // which the overlay sends below.
            if overlay!.hasRelayRoutes, overlay!.relaySessionDatagram(buffer, to: destination, now: now) {
                overlayDeadlineIsCurrent = false
                continue
            }
            if buffer.count >= DatagramHeader.size, buffer[1] == MessageType.handshakeInitiation.rawValue {
                overlay!.noteHandshake(to: destination, now: now)
                overlayDeadlineIsCurrent = false
            }
            return destination
        }
        guard hasOverlay else { return nil }
        if let destination = overlay!.pollTransmit(now: now, into: &buffer) { return destination }
        refreshOverlayDeadline()
        return nil
    }

    /// Sends the unanswered handshakes to each peer the overlay just found a relay for
    /// again at once, through the relay: the backoff's next retransmission may be seconds
    /// away.
    private mutating func retryHandshakesThroughNewRelays(now: Instant) {
        for address in overlay!.takeNewRelayRoutes() { peer.retryHandshakes(to: address, now: now) }
    }

    /// Works the overlay's deadline out again if the overlay changed since.
    private mutating func refreshOverlayDeadline() {
        guard !overlayDeadlineIsCurrent else { return }
        overlayDeadline = hasOverlay ? Self.deadline(of: &overlay!) : nil
        overlayDeadlineIsCurrent = true
    }

    /// The overlay's deadline, read in place: `overlay?.pollTimeout()` copied the whole
    /// overlay (retaining every table in it) on each poll, 3 % of a 1,000-peer swarm's CPU.
    private static func deadline(of overlay: inout OverlayCore) -> Instant? { overlay.pollTimeout() }

    public func pollTimeout() -> Instant? {
        let parts: Instant?
        switch (peer.pollTimeout(), overlayDeadline) {
        case (let first?, let second?): parts = min(first, second)
        case (let first, nil): parts = first
        case (nil, let second): parts = second
        }
        guard !anycast.calls.isEmpty, let attempt = anycast.earliestDeadline else { return parts }
        return parts.map { min($0, attempt) } ?? attempt
    }

    public mutating func pollEvent() -> Event? {
        if let event = anycast.events.popFirst() { return event }
        if let event = peer.pollEvent() { return .peer(event) }
        guard hasOverlay else { return nil }
        return overlay!.pollEvent().map { .overlay($0) }
    }
}
