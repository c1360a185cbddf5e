import StarlingTestSupport
import Testing

@testable import StarlingCore

/// What remote peers can make one peer's streams hold: open streams in all and per
/// peer, idle streams, unsent answers, and the reservation for a message being received.
@Suite struct StreamLimitsTests {
    static let start = Instant(nanoseconds: 5_000_000_000)

    static func peer(_ seed: UInt64) -> PeerID { StreamCallsTests.peer(seed) }

    /// The capacity the responder holds for the message it is receiving.
    static func inboundCapacity(_ session: borrowing StreamSession) -> Int? {
        guard case .established(let transport) = session.state else { return nil }
        return transport.inbound?.bytes.capacity
    }

    @Test func receive_reservationGrowsWithReceivedBytes_notWithTheDeclaredLength() throws {
        var pair = try StreamPair()
        pair.establish()
        let size = 4 * 1024 * 1024
        try pair.initiator.send(streamTestMessage(size: size, seed: 3))
        let wire = StreamPair.transmit(&pair.initiator, bufferSize: 1 << 20)
        // The first chunk declares 4 MiB but carries under 64 KiB.
        var offset = StreamConstants.maximumFrameSize
        pair.responder.handleBytes(Array(wire[..<offset]))
        let reserved = Self.inboundCapacity(pair.responder)
        let first = try #require(reserved)
        #expect(first <= StreamConstants.initialReceiveReservation + 4096)
        // Then it grows at most to about twice what arrived.
        var received = StreamConstants.maximumStartData
        while offset < wire.count {
            let end = min(wire.count, offset + StreamConstants.maximumFrameSize)
            pair.responder.handleBytes(Array(wire[offset..<end]))
            received += end - offset - StreamConstants.chunkOverhead - StreamConstants.recordTypeSize
            offset = end
            if let capacity = Self.inboundCapacity(pair.responder) {
                #expect(capacity <= 2 * received + StreamConstants.initialReceiveReservation)
            }
        }
        #expect(pair.responder.pollEvent() == .message(streamTestMessage(size: size, seed: 3)))
    }

    @Test func floodOfStreamsFromOnePeer_isRefusedBeyondThePerPeerLimit() {
        var calls = StreamCalls(maximumMessageSize: 4096)
        var accepted = 0
        for index in 0..<100 where calls.streamOpened(StreamID(rawValue: UInt64(index)), with: Self.peer(1)) {
            accepted += 1
        }
        #expect(accepted == StreamConstants.maximumStreamsPerPeer)
        #expect(calls.refusedStreamsPerPeer == 100 - StreamConstants.maximumStreamsPerPeer)
        // Other peers still get streams; an ended stream frees its peer's slot.
        let openedOther = calls.streamOpened(StreamID(rawValue: 500), with: Self.peer(2))
        #expect(openedOther)
        calls.streamEnded(StreamID(rawValue: 0))
        let reopened = calls.streamOpened(StreamID(rawValue: 501), with: Self.peer(1))
        #expect(reopened)
        #expect(calls.openStreamCount == StreamConstants.maximumStreamsPerPeer + 1)
    }

    @Test func idleStream_isHandedToTheDriverToClose_busyOneIsNot() throws {
        let limits = StreamLimits(idleTimeout: .seconds(60))
        var calls = StreamCalls(maximumMessageSize: 4096, limits: limits)
        let idle = StreamID(rawValue: 1)
        let busy = StreamID(rawValue: 2)
        let openedIdle = calls.streamOpened(idle, with: Self.peer(1), now: Self.start)
        #expect(openedIdle)
        let openedBusy = calls.streamOpened(busy, with: Self.peer(2), now: Self.start)
        #expect(openedBusy)
        _ = try calls.request("echo", [1], on: busy, timeout: .seconds(600), now: Self.start)
        while calls.pollTransmit() != nil {}
        calls.streamWritten(busy, count: 1_000)
        var now = Self.start
        var closed: [(StreamID, Instant)] = []
        while now < Self.start + .seconds(200) {
            let deadline = try #require(calls.earliestDeadline)
            now = max(now, deadline)
            calls.handleTimeout(now: now)
            while let stream = calls.pollStreamToClose() { closed.append((stream, now)) }
        }
        #expect(closed.map(\.0) == [idle])
        #expect(calls.idleClosedStreams == 1)
        // Closed between 1 and 1.25 timeouts after it was last used.
        let closedAt = try #require(closed.first?.1)
        #expect(closedAt >= Self.start + .seconds(60) && closedAt <= Self.start + .seconds(75))
    }

    @Test func unreadAnswers_closeTheStreamAtTheUnsentLimit_memoryStaysBounded() throws {
        let limits = StreamLimits(maximumUnsentBytesPerStream: 100_000, maximumUnsentBytes: 1_000_000)
        var calls = StreamCalls(maximumMessageSize: 64 * 1024, limits: limits)
        let stream = StreamID(rawValue: 1)
        let openedStream = calls.streamOpened(stream, with: Self.peer(1))
        #expect(openedStream)
        let payload = [UInt8](repeating: 7, count: 30_000)
        var answered = 0
        // A peer asks for 30 KB echoes and never reads them: nothing reports them written.
        for id in 0..<UInt64(20) {
            let request = try RPCRequest(id: id, method: "echo", payload: payload).encoded(maximumSize: 64 * 1024)
            calls.handleMessage(request, on: stream, servedMethods: ["echo"])
            while let event = calls.pollEvent() {
                guard case .request(let incoming) = event else { continue }
                try calls.respond(to: incoming.id, payload: incoming.payload)
                answered += 1
            }
            #expect(calls.unsentBytes <= limits.maximumUnsentBytesPerStream + 64 * 1024)
        }
        #expect(answered == 4)
        #expect(calls.overloadedStreams >= 1)
        let toClose = calls.pollStreamToClose()
        #expect(toClose == stream)
        // Once the driver reports the answers written, requests are served again.
        calls.streamWritten(stream, count: calls.unsentBytes(on: stream))
        #expect(calls.unsentBytes == 0)
        let request = try RPCRequest(id: 99, method: "echo", payload: [1]).encoded(maximumSize: 64 * 1024)
        calls.handleMessage(request, on: stream, servedMethods: ["echo"])
        let served = calls.pollEvent()
        #expect(served != nil)
        // Ending the stream forgets its unsent bytes.
        calls.streamEnded(stream)
        #expect(calls.unsentBytes == 0)
    }

    @Test func document_streamRequestExample_isWhatStreamCallsSends() throws {
        let bytes = try #require(try ProtocolDocTests.examples()["stream-request"])
        var calls = StreamCalls(maximumMessageSize: 4096, firstRequestID: 42)
        let openedDoc = calls.streamOpened(StreamID(rawValue: 1), with: Self.peer(1))
        #expect(openedDoc)
        _ = try calls.request(
            "echo", Array("hi".utf8), on: StreamID(rawValue: 1), timeout: .seconds(5), now: Self.start)
        let sent = calls.pollTransmit()
        #expect(sent?.bytes == bytes)
        let request = try RPCRequest.decode(bytes[...], maximumSize: 4096)
        #expect(request.floor == 42 && request.incarnation == 0)
    }
}
