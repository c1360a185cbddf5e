public import StarlingCore
import Synchronization

extension Peer {
    /// Something that happened to a ``Peer``, delivered by ``Peer/events``.
    public enum Event: Equatable, Sendable {
        /// A session with `peer` is established; `address` is where it was reached.
        case sessionUp(peer: PeerID, address: PeerAddress)
        /// The session with `peer` ended: closed here, or expired after the peer fell silent.
        case sessionDown(peer: PeerID, reason: SessionCloseReason)
        /// A handshake this peer started failed.
        case handshakeFailed(address: PeerAddress, expected: PeerID?, error: SessionError)
        /// A datagram sent with ``Peer/send(_:to:)`` arrived from `peer`.
        case datagram(peer: PeerID, payload: [UInt8])
        /// A message sent with ``Peer/sendMessage(_:to:)`` arrived from `peer`, whole and in order.
        case message(peer: PeerID, payload: [UInt8])
        /// Overlay membership changed: a member joined, was suspected, failed, left or
        /// came back.
        case membership(MembershipEvent)
        /// A message sent with ``Peer/broadcast(_:)`` by `origin` arrived (once per message).
        case broadcast(origin: PeerID, payload: [UInt8])
        /// A flooded query from ``Peer/search(_:ttl:wantsNotices:)`` arrived; answer it with
        /// ``Peer/answer(query:payload:)``.
        case query(id: SpreadingID, origin: PeerID, payload: [UInt8])
        /// An answer to this peer's query `id` came back from `responder`.
        case queryHit(id: SpreadingID, responder: PeerID, payload: [UInt8])
        /// A control message about this peer's query (``Peer/search(_:ttl:wantsNotices:)``
        /// with notices): where it exceeded its TTL, or found no way on.
        case notice(SpreadingNotice)

        /// Whether the event may be dropped when the reader falls behind: datagrams and
        /// broadcasts, which their protocols already treat as unreliable.
        var isDroppable: Bool {
            switch self {
            case .datagram, .broadcast: true
            default: false
            }
        }
    }

    /// The events of one ``Peer``, in the order they happened; it finishes when the
    /// peer shuts down.
    ///
    /// Read it from one task. While more than ``PeerConfiguration/eventBufferSize``
    /// datagram events wait unread, further datagrams are dropped and counted in
    /// ``Peer/droppedEventCount``; session events and (reliable) messages always wait,
    /// however many there are.
    public struct Events: AsyncSequence, Sendable {
        public typealias Element = Event
        public typealias Failure = Never

        let stream: AsyncStream<Event>
        let backlog: EventBacklog

        /// Makes the iterator; call it once, from the one task that reads the events.
        public func makeAsyncIterator() -> Iterator {
            Iterator(base: stream.makeAsyncIterator(), backlog: backlog)
        }

        /// Iterates ``Peer/Events``.
        public struct Iterator: AsyncIteratorProtocol {
            var base: AsyncStream<Event>.Iterator
            let backlog: EventBacklog

            /// The next event, or `nil` once the peer has shut down.
            public mutating func next() async -> Event? {
                let event = await base.next()
                if event?.isDroppable == true { backlog.consumed() }
                return event
            }

            /// The next event, or `nil` once the peer has shut down.
            public mutating func next(isolation actor: isolated (any Actor)?) async -> Event? {
                let event = await base.next(isolation: actor)
                if event?.isDroppable == true { backlog.consumed() }
                return event
            }
        }
    }
}

/// Counts datagram events yielded but not yet read, so that the producer can bound them.
final class EventBacklog: Sendable {
    private let unread = Atomic<Int>(0)
    private let dropped = Atomic<UInt64>(0)
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Claims room for one more datagram event; `false` (and counted) when full.
    func admit() -> Bool {
        if unread.add(1, ordering: .relaxed).newValue <= limit { return true }
        unread.subtract(1, ordering: .relaxed)
        dropped.add(1, ordering: .relaxed)
        return false
    }

    /// One datagram event was read.
    func consumed() {
        unread.subtract(1, ordering: .relaxed)
    }

    /// Datagram events dropped so far because the reader was behind.
    var droppedCount: UInt64 { dropped.load(ordering: .relaxed) }
}
