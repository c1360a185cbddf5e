import Starling
import StarlingCore
import Testing

@testable import Starling

/// The bound of each kind of ``Peer/Event`` (``Peer/EventLimits``): a reader that does
/// not read makes the drop count grow, never the events held.
@Suite struct PeerEventLimitTests {
    static let sender = PeerID(publicKey: Key32([UInt8](repeating: 1, count: 32))!)
    static let other = PeerID(publicKey: Key32([UInt8](repeating: 2, count: 32))!)

    static func message(_ index: Int, size: Int = 16) -> Peer.Event {
        .message(peer: sender, payload: [UInt8](repeating: UInt8(index), count: size))
    }

    @Test func sink_messagesOverTheirBound_areDroppedAndCountedWhileTheQueuedOnesStay() async throws {
        var limits = Peer.EventLimits()
        limits.messages = 4
        let (sink, events) = EventSink.make(limits: limits)
        for index in 0..<20 { sink.yield(Self.message(index)) }
        #expect(sink.backlog.unread(.message) == 4)
        #expect(sink.backlog.dropped.messages == 16)
        #expect(sink.backlog.dropped.total == 16)
        // Other kinds have bounds of their own: a full message queue refuses no datagram.
        sink.yield(.datagram(peer: Self.other, payload: [9]))
        #expect(sink.backlog.unread(.datagram) == 1)

        var iterator = events.makeAsyncIterator()
        for index in 0..<4 { #expect(await iterator.next() == Self.message(index)) }
        #expect(sink.backlog.unread(.message) == 0)
        // Reading made room again.
        sink.yield(Self.message(42))
        #expect(await iterator.next() == .datagram(peer: Self.other, payload: [9]))
        #expect(await iterator.next() == Self.message(42))
        #expect(sink.backlog.dropped.messages == 16)
        sink.finish()
        #expect(await iterator.next() == nil)
    }

    @Test func sink_messageBytesOverTheirBound_areDroppedAndCounted() {
        var limits = Peer.EventLimits()
        limits.messageBytes = 10_000
        // The events are kept: once nobody can read them any more, nothing is held.
        let (sink, events) = EventSink.make(limits: limits)
        defer { withExtendedLifetime(events) {} }
        sink.yield(Self.message(0, size: 4_000))
        sink.yield(Self.message(1, size: 4_000))
        sink.yield(Self.message(2, size: 4_000))
        sink.yield(Self.message(3, size: 20_000))
        sink.yield(Self.message(4, size: 2_000))
        #expect(sink.backlog.unread(.message) == 3)
        #expect(sink.backlog.dropped.messages == 2)
    }

    @Test func sink_everyKindHasItsBound() {
        var limits = Peer.EventLimits()
        limits.sessions = 1
        limits.membership = 1
        limits.queries = 1
        limits.queryHits = 1
        limits.notices = 1
        limits.broadcasts = 1
        limits.datagrams = 1
        limits.messages = 1
        let (sink, events) = EventSink.make(limits: limits)
        defer { withExtendedLifetime(events) {} }
        let peer = Self.sender
        let address = PeerAddress.ipv4(127, 0, 0, 1, port: 1)
        let id = SpreadingID(high: 1, low: 2)
        let kinds: [Peer.Event] = [
            .sessionUp(peer: peer, address: address), .sessionDown(peer: peer, reason: .local),
            .datagram(peer: peer, payload: []), .message(peer: peer, payload: []),
            .broadcast(origin: peer, payload: []), .query(id: id, origin: peer, payload: []),
            .queryHit(id: id, responder: peer, payload: []), .notice(.ttlExceeded(id: id, reporter: peer, hops: 1)),
        ]
        for event in kinds + kinds { sink.yield(event) }
        let dropped = sink.backlog.dropped
        #expect(dropped.sessions == 3)
        #expect(dropped.datagrams == 1)
        #expect(dropped.messages == 1)
        #expect(dropped.broadcasts == 1)
        #expect(dropped.queries == 1)
        #expect(dropped.queryHits == 1)
        #expect(dropped.notices == 1)
        #expect(dropped.total == 9)
    }

    @Test func configuration_nonPositiveLimit_isTypedError() async throws {
        var configuration = PeerConfiguration()
        configuration.eventLimits.membership = 0
        await #expect(throws: PeerError.invalidConfiguration("eventLimits.membership must be positive")) {
            try await Peer.start(configuration)
        }
        configuration = PeerConfiguration()
        configuration.eventBufferSize = 7
        #expect(configuration.eventLimits.datagrams == 7)
        #expect(configuration.eventLimits.broadcasts == 7)
    }

    /// Over real sockets: `b` never reads its events while `a` sends it datagrams. A
    /// request after each batch is answered only once `b` has handled the datagrams
    /// before it (one socket, one event loop, in order), so the counts can be read then.
    @Test func peer_readerThatDoesNotRead_dropCountGrowsHeldEventsDoNot() async throws {
        var configuration = PeerConfiguration()
        configuration.eventLimits.datagrams = 8
        let a = try await Peer.start()
        let b = try await Peer.start(configuration)
        try await b.handle("sync") { _ in [] }
        try await a.connect(to: b.address, expecting: b.id, timeout: .seconds(60))
        var previous: UInt64 = 0
        for batch in 0..<3 {
            for index in 0..<100 { try await a.send([UInt8(batch), UInt8(index)], to: b.id) }
            _ = try await a.request("sync", [], to: b.id, timeout: .seconds(60))
            let dropped = b.droppedEvents.datagrams
            #expect(dropped > previous, "batch \(batch): the drop count did not grow")
            #expect(b.events.backlog.unread(.datagram) == 8)
            #expect(b.droppedEventCount == dropped)
            previous = dropped
        }
        // The events held are the first eight, in order: the newest were the ones refused.
        var iterator = b.events.makeAsyncIterator()
        var datagrams: [[UInt8]] = []
        while datagrams.count < 8, let event = await iterator.next() {
            if case .datagram(_, let payload) = event { datagrams.append(payload) }
        }
        #expect(datagrams == (0..<8).map { [0, UInt8($0)] })
        await a.shutdown()
        await b.shutdown()
    }
}
