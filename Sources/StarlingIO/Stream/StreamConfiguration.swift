public import StarlingCore

/// How stream connections and listeners behave: the swarm, the message limit, the
/// timeouts and the queue bounds.
///
/// ### Purpose
/// Every field says what it controls and what raising or lowering it costs. Start from
/// a profile: ``lan`` is the reference; ``local`` is a delta from it.
public struct StreamConfiguration: Sendable {
    /// The swarm ID (bound into the handshake) and the swarm secret (the psk). Peers
    /// with different values fail the handshake with ``StarlingCore/StreamError/wrongSwarm``.
    public var session: SessionConfiguration

    /// The largest message sent or accepted, in bytes. A receiver holds up to this
    /// much per connection for the message it is reassembling, reserved as its bytes
    /// arrive (not on the declared length), and buffers up to ``receiveQueueLength``
    /// whole ones, so raising it raises the memory a peer that sends that much can make
    /// this side commit; lowering it refuses larger messages with
    /// ``StarlingCore/StreamError/payloadTooLarge(size:maximum:)``. The number of
    /// streams per peer and in all, their idle time and their unsent answers are bounded
    /// by the peer's core (``StarlingCore/StreamLimits``).
    public var maximumMessageSize: Int

    /// Longest wait for the TCP connection when connecting. Longer rides out lossy
    /// paths (a lost SYN is resent after 1 s, then 3 s); shorter fails over sooner.
    public var connectTimeout: Duration

    /// Longest wait for the handshake once TCP is connected, on both sides. Three
    /// one-way trips plus two DH-heavy steps; longer tolerates slow peers, shorter frees
    /// a listener's handshake slots from stalled or hostile clients sooner.
    public var handshakeTimeout: Duration

    /// Longest wait, after ``StreamConnection/close()``, for the peer's close record
    /// before the connection is closed anyway. Longer lets a busy peer finish sending;
    /// shorter bounds how long `close()` can take.
    public var closeTimeout: Duration

    /// The listening socket's backlog: connections the kernel completes and queues
    /// before Starling accepts them. Higher absorbs bursts of connects; each slot costs
    /// kernel memory. The kernel caps it at `net.core.somaxconn`.
    public var backlog: Int32

    /// Most inbound connections in their handshake at once, per listener; further
    /// connections are closed at once. Bounds the memory and DH work unauthenticated
    /// clients can cost.
    public var maximumPendingHandshakes: Int

    /// Most established inbound connections waiting for the application to take them
    /// from ``StreamListener/connections``; further ones are closed. Higher absorbs
    /// bursts; each holds a socket and its buffers.
    public var acceptQueueLength: Int

    /// Most received messages buffered per connection before reading pauses (TCP flow
    /// control then slows the sender); reading resumes when half of them are taken.
    /// Higher smooths bursts; each may be ``maximumMessageSize`` bytes.
    public var receiveQueueLength: Int

    /// Bytes of ciphertext written to the socket per write (at least 26); also the
    /// granularity at which the connection seals ahead of the socket. Larger amortises
    /// system calls and keeps chunks whole (65,539 bytes or more); the connection holds
    /// about four of these in flight.
    public var writeChunkSize: Int

    /// The reference profile, for peers on a LAN or the internet.
    public static let lan = StreamConfiguration(
        session: .lan,
        maximumMessageSize: StreamConstants.defaultMaximumMessageSize,
        connectTimeout: .seconds(10),
        handshakeTimeout: .seconds(10),
        closeTimeout: .seconds(5),
        backlog: 256,
        maximumPendingHandshakes: 256,
        acceptQueueLength: 64,
        receiveQueueLength: 4,
        writeChunkSize: 256 * 1024
    )

    /// Peers on one machine's loopback.
    public static let local: StreamConfiguration = {
        var configuration = lan
        // Loopback connects or refuses at once: a long wait only hides a mistake.
        configuration.connectTimeout = .seconds(2)
        // Many peers on one host connect to each other in bursts.
        configuration.backlog = 1024
        configuration.maximumPendingHandshakes = 1024
        return configuration
    }()

    /// Checks every field.
    /// - Throws: ``StarlingCore/SessionConfiguration/ValidationError`` for the first
    ///   field out of range (the session's fields first).
    public func validate() throws(SessionConfiguration.ValidationError) {
        try session.validate()
        guard maximumMessageSize > 0 else { throw .nonPositive(field: "maximumMessageSize") }
        guard connectTimeout > .zero else { throw .nonPositive(field: "connectTimeout") }
        guard handshakeTimeout > .zero else { throw .nonPositive(field: "handshakeTimeout") }
        guard closeTimeout > .zero else { throw .nonPositive(field: "closeTimeout") }
        guard backlog > 0 else { throw .nonPositive(field: "backlog") }
        guard maximumPendingHandshakes > 0 else { throw .nonPositive(field: "maximumPendingHandshakes") }
        guard acceptQueueLength > 0 else { throw .nonPositive(field: "acceptQueueLength") }
        guard receiveQueueLength > 0 else { throw .nonPositive(field: "receiveQueueLength") }
        guard writeChunkSize > 0 else { throw .nonPositive(field: "writeChunkSize") }
    }
}
