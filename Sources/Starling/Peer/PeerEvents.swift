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
        /// The overlay's topology: the role this peer holds (reported at start and on
        /// every change) and, in a hybrid overlay, index servers found and lost and the
        /// fallback to the Kademlia overlay starting and ending. Counted against the
        /// membership bound of ``Peer/EventLimits``.
        case topology(TopologyEvent)
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
        /// A join (``Peer/join(group:secret:)``) took effect: messages sent to the group
        /// from now on reach this peer. Counted against the membership bound.
        case groupJoined(group: String)
        /// A message sent to a group this peer has joined arrived (once per message).
        /// Counted against the broadcast bound.
        case groupMessage(GroupDelivery)
        /// Messages this peer sent to a group it is no member of were dropped: nobody
        /// answered for the group, or it has no members. Counted against the membership
        /// bound.
        case groupSendFailed(group: String, messages: Int, reason: GroupSendFailure)
    }

    /// A message of a group, as ``Event/groupMessage(_:)`` delivers it.
    public struct GroupDelivery: Equatable, Sendable {
        /// The group's name.
        public var group: String
        /// The member that sent it.
        public var origin: PeerID
        /// The origin's sequence number: increasing per origin, across its groups.
        public var sequence: UInt64
        /// The application's bytes.
        public var payload: [UInt8]
        /// Whether it came as one IP multicast datagram on the LAN segment
        /// (``PeerConfiguration/groupLAN``).
        public var viaLAN: Bool
        /// Overlay links it crossed from its origin.
        public var hops: Int
    }

    /// The events of one ``Peer``, in the order they happened; it finishes when the
    /// peer shuts down.
    ///
    /// Read it from one task. Events wait until read, up to a bound per kind
    /// (``PeerConfiguration/eventLimits``); while a kind's bound is reached, further
    /// events of that kind are dropped and counted in ``Peer/droppedEvents``. Memory
    /// stays bounded however slowly the events are read; see ``Peer/EventLimits`` for
    /// the policy of each kind, reliable messages among them.
    ///
    /// ### One reader at a time
    /// Each event goes to one reader. The first iterator made is the reader for as long
    /// as it exists; an iterator made meanwhile (by another task, or a second loop over
    /// the events) gets no events: its ``Iterator/next()`` returns `nil` at once, the
    /// end of the sequence, and it never traps. Once the reader's iterator is gone (its
    /// `for await` loop ended), the next iterator made becomes the reader and receives
    /// the events from where the last one stopped. To give events to several
    /// consumers, read them in one task and pass them on.
    ///
    /// - Warning: an iterator is not `Sendable`; never share one between tasks.
    public struct Events: AsyncSequence, Sendable {
        public typealias Element = Event
        public typealias Failure = Never

        let stream: AsyncStream<Event>
        let backlog: EventBacklog
        let reader = EventReaderSlot()

        /// Makes the iterator: the reader of the events when no other iterator is, else
        /// one that has ended already (see "One reader at a time").
        public func makeAsyncIterator() -> Iterator {
            guard let lease = reader.claim() else { return Iterator(base: nil, lease: nil, backlog: backlog) }
            return Iterator(base: stream.makeAsyncIterator(), lease: lease, backlog: backlog)
        }

        /// Iterates ``Peer/Events``.
        public struct Iterator: AsyncIteratorProtocol {
            /// The stream's iterator; `nil` when another iterator is the reader.
            var base: AsyncStream<Event>.Iterator?
            /// Holds the reader's place until the last copy of this iterator is gone.
            let lease: EventReaderLease?
            let backlog: EventBacklog

            /// The next event, or `nil` once the peer has shut down (at once when this
            /// iterator is not the reader).
            public mutating func next() async -> Event? {
                guard base != nil else { return nil }
                let event = await base!.next()
                if let event { backlog.consumed(event) }
                return event
            }

            /// The next event, or `nil` once the peer has shut down (at once when this
            /// iterator is not the reader).
            public mutating func next(isolation actor: isolated (any Actor)?) async -> Event? {
                guard base != nil else { return nil }
                let event = await base!.next(isolation: actor)
                if let event { backlog.consumed(event) }
                return event
            }
        }
    }
}

/// Whether an iterator of a peer's events is reading them now: the one place that
/// keeps a second reader from the underlying `AsyncStream`, which traps on two.
final class EventReaderSlot: Sendable {
    private let taken = Atomic<Bool>(false)

    /// Takes the reader's place if it is free.
    /// - Returns: the lease that frees it again when released, or `nil` when taken.
    func claim() -> EventReaderLease? {
        guard taken.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return nil
        }
        return EventReaderLease(slot: self)
    }

    /// Frees the reader's place.
    fileprivate func release() {
        taken.store(false, ordering: .releasing)
    }
}

/// The reader's place in an ``EventReaderSlot``, freed when the lease is released
/// (when the last copy of the iterator holding it is gone).
final class EventReaderLease: Sendable {
    private let slot: EventReaderSlot

    fileprivate init(slot: EventReaderSlot) {
        self.slot = slot
    }

    deinit { slot.release() }
}
