/// A sans-I/O protocol state machine that a driver (real sockets, the simulator, or a
/// test) feeds with datagrams and time.
///
/// ### Purpose
/// Every Starling protocol core has four kinds of members: getters; inputs
/// (``handleDatagram(_:from:now:)``, ``handleTimeout(now:)`` and commands the concrete
/// type adds); and outputs polled by the driver (``pollTransmit(now:into:)``,
/// ``pollTimeout()``, ``pollEvent()``). A core never reads a clock, opens a socket or
/// starts a thread, so the same core runs over SwiftNIO, in the simulator, and in unit
/// tests that hand-feed datagrams.
///
/// ### Driving a core
/// After any input, a driver must:
/// 1. drain ``pollTransmit(now:into:)`` until it returns `nil`, sending each datagram;
/// 2. re-arm its single timer to ``pollTimeout()`` (cancel it when `nil`);
/// 3. drain ``pollEvent()`` and hand the events to the user.
///
/// When the timer fires, call ``handleTimeout(now:)`` and do the same three steps.
/// A driver that can tell how late it is (its timer fired after the deadline, the
/// socket's receive queue overflowed) reports that with ``noteLoad(_:now:)`` before the
/// input it concerns, so the core can tell its own slowness from other peers' silence.
/// `now` must never go backwards between calls; a core may treat an earlier `now` as
/// equal to the latest one it saw.
///
/// - Warning: a core is not thread-safe. Drive each core from one thread or event
///   loop at a time.
public protocol ProtocolCore {
    /// What the core reports to its user.
    associatedtype Event

    /// Feeds one received datagram.
    ///
    /// - Parameters:
    ///   - datagram: the datagram's bytes, borrowed for the duration of the call.
    ///   - source: the address it came from.
    ///   - now: the current time.
    mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant)

    /// Tells the core that the deadline it reported through ``pollTimeout()`` has passed.
    /// - Parameter now: the current time, at or after that deadline.
    mutating func handleTimeout(now: Instant)

    /// Writes the next datagram to send into `buffer` and returns where to send it.
    ///
    /// - Parameters:
    ///   - now: the current time.
    ///   - buffer: storage the driver lends and reuses; the core replaces its contents
    ///     (keeping its capacity) with the datagram.
    /// - Returns: the destination, or `nil` when there is nothing to send (then
    ///   `buffer`'s contents are unspecified).
    mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress?

    /// The earliest time at which the core wants ``handleTimeout(now:)``, if any.
    func pollTimeout() -> Instant?

    /// The next event for the user, or `nil` when there is none.
    mutating func pollEvent() -> Event?

    /// Tells the core how far behind its driver is: how late a timer fired, and how many
    /// datagrams the receive queue dropped since the last report. The default ignores it.
    mutating func noteLoad(_ load: DriverLoad, now: Instant)
}

extension ProtocolCore {
    public mutating func noteLoad(_ load: DriverLoad, now: Instant) {}
}
