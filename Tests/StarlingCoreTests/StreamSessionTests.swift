import Foundation
import StarlingTestSupport
import Testing

@testable import StarlingCore

/// How a test cuts a byte stream into `handleBytes` calls: sizes drawn from `sizes`
/// by a seeded generator, so every run cuts the same way.
struct StreamChunking: CustomStringConvertible, Sendable {
    let sizes: ClosedRange<Int>
    let seed: UInt64

    var description: String {
        if sizes.lowerBound == Int.max { return "whole" }
        return sizes.count == 1 ? "every \(sizes.lowerBound) bytes" : "random \(sizes)"
    }

    static let whole = StreamChunking(sizes: Int.max...Int.max, seed: 0)
    static let bytewise = StreamChunking(sizes: 1...1, seed: 0)
    static let tiny = StreamChunking(sizes: 1...7, seed: 11)
    static let medium = StreamChunking(sizes: 1...1500, seed: 12)
    static let large = StreamChunking(sizes: 1...100_000, seed: 13)
    /// One whole frame per call, and one byte off it, so cuts fall on and beside frame edges.
    static let frame = StreamChunking(
        sizes: StreamConstants.maximumFrameSize...StreamConstants.maximumFrameSize, seed: 0)
    static let frameMinusOne = StreamChunking(
        sizes: StreamConstants.maximumFrameSize - 1...StreamConstants.maximumFrameSize - 1, seed: 0)

    /// Feeds `bytes` to `session` in this chunking.
    func deliver(_ bytes: [UInt8], to session: inout StreamSession) {
        var random = TestRandom(seed: seed)
        var start = 0
        bytes.withUnsafeBytes { all in
            while start < all.count {
                let size = sizes.count == 1 ? sizes.lowerBound : Int.random(in: sizes, using: &random)
                let end = start + min(size, all.count - start)
                session.handleBytes(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
    }
}

/// An initiator and a responder wired back to back in memory (non-copyable, as its
/// sessions are).
struct StreamPair: ~Copyable {
    var initiator: StreamSession
    var responder: StreamSession
    var initiatorEvents: [StreamEvent] = []
    var responderEvents: [StreamEvent] = []
    let initiatorIdentity: IdentityKeyPair
    let responderIdentity: IdentityKeyPair

    /// The wall clock both sides read unless a test sets another.
    static let wallClock = UnixTime(seconds: 1_800_000_000)

    static func identity(_ byte: UInt8) -> IdentityKeyPair {
        try! IdentityKeyPair(seed: [UInt8](repeating: byte, count: 32))
    }

    static func configuration(swarm: UInt8 = 0, secret: UInt8? = nil) -> SessionConfiguration {
        var configuration = SessionConfiguration.lan
        configuration.swarmID = [UInt8](repeating: swarm, count: 32)
        configuration.swarmSecret = secret.map { [UInt8](repeating: $0, count: 32) }
        return configuration
    }

    init(
        initiator initiatorConfiguration: SessionConfiguration = configuration(),
        responder responderConfiguration: SessionConfiguration = configuration(),
        expecting: PeerID?? = .none, initiatorMaximum: Int = StreamConstants.defaultMaximumMessageSize,
        responderMaximum: Int = StreamConstants.defaultMaximumMessageSize, seed: UInt64 = 1,
        initiatorClock: UnixTime = wallClock, responderClock: UnixTime = wallClock
    ) throws {
        initiatorIdentity = Self.identity(1)
        responderIdentity = Self.identity(2)
        var random = TestRandom(seed: seed)
        let expected = expecting ?? responderIdentity.peerID
        // Both made before either is stored: a non-copyable field must not be left
        // initialised on one path out of a throwing init and not on another.
        let initiator = try StreamSession(
            role: .initiator(expecting: expected), identity: initiatorIdentity, configuration: initiatorConfiguration,
            maximumMessageSize: initiatorMaximum, wallClock: initiatorClock, random: &random)
        let responder = try StreamSession(
            role: .responder, identity: responderIdentity, configuration: responderConfiguration,
            maximumMessageSize: responderMaximum, wallClock: responderClock, random: &random)
        self.initiator = initiator
        self.responder = responder
    }

    /// Moves bytes both ways until neither side has anything to send.
    mutating func run(
        chunking: StreamChunking = .whole, transmitBuffer: Int = 1 << 20,
        recording wire: ((Bool, [UInt8]) -> Void)? = nil
    ) {
        var rounds = 0
        while initiator.hasPendingTransmit || responder.hasPendingTransmit {
            rounds += 1
            precondition(rounds < 100, "the sessions keep talking")
            let fromInitiator = Self.transmit(&initiator, bufferSize: transmitBuffer)
            wire?(true, fromInitiator)
            chunking.deliver(fromInitiator, to: &responder)
            drain()
            let fromResponder = Self.transmit(&responder, bufferSize: transmitBuffer)
            wire?(false, fromResponder)
            chunking.deliver(fromResponder, to: &initiator)
            drain()
        }
    }

    mutating func drain() {
        while let event = initiator.pollEvent() { initiatorEvents.append(event) }
        while let event = responder.pollEvent() { responderEvents.append(event) }
    }

    /// Everything `session` has to send, polled through a lent buffer of `bufferSize` bytes.
    static func transmit(_ session: inout StreamSession, bufferSize: Int) -> [UInt8] {
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        while session.hasPendingTransmit {
            let count = buffer.withUnsafeMutableBytes { session.pollTransmit(into: $0) }
            if count == 0 { break }
            output.append(contentsOf: buffer[..<count])
        }
        return output
    }

    /// Runs the handshake and checks that both sides report it.
    mutating func establish() {
        run()
        #expect(initiatorEvents == [.established(peer: responderIdentity.peerID)])
        #expect(responderEvents == [.established(peer: initiatorIdentity.peerID)])
        initiatorEvents.removeAll()
        responderEvents.removeAll()
    }
}

/// Deterministic message content: distinct 8-byte words, so a lost, doubled or
/// reordered chunk changes the message.
func streamTestMessage(size: Int, seed: UInt64) -> [UInt8] {
    var random = TestRandom(seed: seed)
    var bytes = [UInt8](repeating: 0, count: size)
    bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset < size {
            var word = random.next()
            withUnsafeBytes(of: &word) { wordBytes in
                let count = min(8, size - offset)
                buffer.baseAddress!.advanced(by: offset).copyMemory(from: wordBytes.baseAddress!, byteCount: count)
            }
            offset += 8
        }
    }
    return bytes
}

@Suite struct StreamSessionTests {
    static let sixteenMiB = 16 * 1024 * 1024

    // MARK: Handshake

    @Test func handshake_xx_establishesBothSidesWithProvenPeers() throws {
        var pair = try StreamPair()
        let opening = StreamPair.transmit(&pair.initiator, bufferSize: 4096)
        // Header, then a frame of kind XX and Noise message 1 (an ephemeral key, empty payload).
        #expect(Array(opening.prefix(6)) == [0xB1, 0x00, 0x00, 0x00, 0x21, HandshakeKind.xx.rawValue])
        #expect(opening.count == 1 + 4 + 1 + 32)
        pair.responder.handleBytes(opening)
        pair.establish()
        #expect(pair.initiator.isEstablished && pair.responder.isEstablished)
        #expect(pair.initiator.remotePeer == pair.responderIdentity.peerID)
        #expect(pair.responder.remotePeer == pair.initiatorIdentity.peerID)
    }

    @Test func handshake_xxpsk3_withSharedSecret_establishes() throws {
        let configuration = StreamPair.configuration(swarm: 7, secret: 9)
        var pair = try StreamPair(initiator: configuration, responder: configuration)
        let opening = StreamPair.transmit(&pair.initiator, bufferSize: 4096)
        // In XXpsk3 message 1's (empty) payload is encrypted: 32 + 16 bytes, then the time and the swarm MAC.
        #expect(Array(opening.prefix(6)) == [0xB1, 0x00, 0x00, 0x00, 0x49, HandshakeKind.xxPSK3.rawValue])
        #expect(opening.count == 1 + 4 + 1 + 48 + 8 + 16)
        pair.responder.handleBytes(opening)
        pair.establish()
    }

    @Test func handshake_initiatorWithoutExpectedPeer_acceptsAnyProvenPeer() throws {
        var pair = try StreamPair(expecting: .some(nil))
        pair.establish()
    }

    @Test func handshake_initiatorWaitsForConfirmationBeforeEstablishing() throws {
        var pair = try StreamPair()
        pair.responder.handleBytes(StreamPair.transmit(&pair.initiator, bufferSize: 4096))
        pair.initiator.handleBytes(StreamPair.transmit(&pair.responder, bufferSize: 4096))
        // Message 3 is sent, the confirmation not yet received.
        #expect(pair.initiator.pollEvent() == nil)
        #expect(pair.initiator.isEstablished == false)
        #expect(throws: StreamError.notEstablished) { try pair.initiator.send([1]) }
        pair.run()
        #expect(pair.initiatorEvents == [.established(peer: pair.responderIdentity.peerID)])
    }

    /// A responder of an open swarm answers, so both sides learn why the handshake failed;
    /// a private swarm's responder answers nothing (the `admission_` tests).
    @Test(arguments: [
        (StreamPair.configuration(secret: 1), StreamPair.configuration()),
        (StreamPair.configuration(swarm: 1), StreamPair.configuration(swarm: 2)),
    ])
    func handshake_wrongSwarmOrSecret_openResponder_failsBothSidesWithWrongSwarm(
        initiator: SessionConfiguration, responder: SessionConfiguration
    ) throws {
        var pair = try StreamPair(initiator: initiator, responder: responder)
        pair.run()
        #expect(pair.initiatorEvents == [.failed(.wrongSwarm)])
        #expect(pair.responderEvents == [.failed(.wrongSwarm)])
        #expect(pair.initiator.isFinished && pair.responder.isFinished)
        #expect(throws: StreamError.wrongSwarm) { try pair.initiator.send([1]) }
    }

    // MARK: Admission to a private swarm

    /// Initiators that do not hold the responder's swarm secret (or swarm ID).
    static let outsiders: [(SessionConfiguration, SessionConfiguration)] = [
        (StreamPair.configuration(secret: 1), StreamPair.configuration(secret: 2)),
        (StreamPair.configuration(), StreamPair.configuration(secret: 2)),
        (StreamPair.configuration(swarm: 1, secret: 3), StreamPair.configuration(swarm: 2, secret: 3)),
    ]

    @Test(arguments: outsiders)
    func admission_outsider_getsNoByteAndResponderRefusesWithInvalidMAC(
        initiator: SessionConfiguration, responder: SessionConfiguration
    ) throws {
        var pair = try StreamPair(initiator: initiator, responder: responder)
        var fromResponder: [UInt8] = []
        pair.run { fromInitiator, bytes in if !fromInitiator { fromResponder += bytes } }
        #expect(fromResponder.isEmpty)
        #expect(pair.responderEvents == [.failed(.invalidMAC)])
        #expect(pair.responder.isFinished && !pair.responder.hasPendingTransmit)
        // The initiator heard nothing; the responder's closing ends its stream.
        #expect(pair.initiatorEvents.isEmpty)
        pair.initiator.handleEndOfStream()
        #expect(pair.initiator.pollEvent() == .failed(.truncated))
    }

    @Test func admission_member_openingEndsWithSwarmMACOverEverythingBefore() throws {
        let configuration = StreamPair.configuration(swarm: 7, secret: 9)
        var pair = try StreamPair(initiator: configuration, responder: configuration)
        let opening = StreamPair.transmit(&pair.initiator, bufferSize: 4096)
        let key = SwarmSealKey.deriveBytes(
            swarmID: configuration.swarmID, swarmSecret: try #require(configuration.swarmSecret),
            domain: Array("starling/stream/v1".utf8) + [0])
        let macStart = opening.count - 16
        let expected = opening.withUnsafeBytes {
            HandshakeMAC.mac(UnsafeRawBufferPointer(rebasing: $0[..<macStart]), key: key)
        }
        #expect(Array(opening[macStart...]) == expected)
        // The time before the MAC is the initiator's wall clock, big-endian seconds.
        let sentAt = opening[(macStart - 8)..<macStart].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(sentAt == StreamPair.wallClock.seconds)
        // The responder checks it when fed byte by byte too.
        StreamChunking.bytewise.deliver(opening, to: &pair.responder)
        pair.establish()
    }

    @Test func admission_everyBitFlipInOpening_isRefusedWithoutAnswer() throws {
        let configuration = StreamPair.configuration(secret: 4)
        var source = try StreamPair(initiator: configuration, responder: configuration)
        let opening = StreamPair.transmit(&source.initiator, bufferSize: 4096)
        for bit in 0..<(opening.count * 8) {
            let fresh = try StreamPair(initiator: configuration, responder: configuration)
            var responder = fresh.responder
            var flipped = opening
            flipped[bit / 8] ^= 1 << (bit % 8)
            responder.handleBytes(flipped)
            responder.handleEndOfStream()
            #expect(responder.hasPendingTransmit == false, "bit \(bit) drew an answer")
            guard case .failed(let error) = responder.pollEvent() else {
                Issue.record("bit \(bit) of the opening did not fail the responder")
                continue
            }
            // A flipped header bit is another header; any bit after the length prefix
            // (the time included) spoils the MAC.
            if bit >= 8 * 5 {
                #expect(error == .invalidMAC, "bit \(bit)")
            } else if bit >= 8 {
                #expect([.invalidMAC, .malformedFrame, .truncated].contains(error), "bit \(bit): \(error)")
            } else {
                #expect(error == .unsupportedHeader(flipped[0]), "bit \(bit)")
            }
        }
    }

    /// The opening window, either way: (initiator's clock − responder's) in seconds, and
    /// whether the responder admits it.
    static let clockOffsets: [(Int64, Bool)] = [
        (0, true), (60, true), (-60, true), (61, false), (-61, false), (3600, false), (-86400, false),
    ]

    @Test(arguments: clockOffsets)
    func admission_openingTime_isAdmittedOnlyWithinTheWindow(offset: Int64, admitted: Bool) throws {
        let configuration = StreamPair.configuration(secret: 4)
        let initiatorClock = UnixTime(seconds: UInt64(Int64(StreamPair.wallClock.seconds) + offset))
        var pair = try StreamPair(
            initiator: configuration, responder: configuration, initiatorClock: initiatorClock)
        var fromResponder: [UInt8] = []
        pair.run { fromInitiator, bytes in if !fromInitiator { fromResponder += bytes } }
        if admitted {
            #expect(pair.responderEvents == [.established(peer: pair.initiatorIdentity.peerID)])
        } else {
            #expect(pair.responderEvents == [.failed(.staleOpening)])
            #expect(fromResponder.isEmpty)
        }
    }

    @Test func admission_replayedOpeningOutsideTheWindow_isNotAnswered() throws {
        // An opening captured from a member draws message 2 from a responder while fresh
        // (the residual SECURITY.md names), and nothing once the window has passed.
        let configuration = StreamPair.configuration(secret: 4)
        var member = try StreamPair(initiator: configuration, responder: configuration)
        let captured = StreamPair.transmit(&member.initiator, bufferSize: 4096)
        for (later, answered) in [(0, true), (60, true), (61, false)] {
            let clock = UnixTime(seconds: StreamPair.wallClock.seconds + UInt64(later))
            let fresh = try StreamPair(
                initiator: configuration, responder: configuration, seed: 9, responderClock: clock)
            var responder = fresh.responder
            responder.handleBytes(captured)
            #expect(responder.hasPendingTransmit == answered, "\(later) s later")
            if !answered { #expect(responder.pollEvent() == .failed(.staleOpening)) }
        }
    }

    @Test func admission_garbageBeforeAdmission_isNeverAnswered() throws {
        var random = TestRandom(seed: 321)
        let configuration = StreamPair.configuration(secret: 4)
        var frames: [[UInt8]] = [
            [0, 0, 0, 1, StreamAbortReason.wrongSwarm.rawValue],  // an abort frame
            [0xFF, 0xFF, 0xFF, 0xFF],  // a frame longer than any Noise message
            [0, 0, 0, 0],  // an empty frame
        ]
        for _ in 0..<200 {
            let length = Int.random(in: 0...300, using: &random)
            frames.append((0..<length).map { _ in UInt8.random(in: 0...255, using: &random) })
        }
        for (index, frame) in frames.enumerated() {
            let fresh = try StreamPair(initiator: configuration, responder: configuration)
            var responder = fresh.responder
            responder.handleBytes([StreamConstants.header] + frame)
            responder.handleEndOfStream()
            #expect(responder.hasPendingTransmit == false, "input \(index) drew an answer")
            guard case .failed = responder.pollEvent() else {
                Issue.record("input \(index) did not fail the responder")
                continue
            }
        }
    }

    @Test func admission_afterValidMAC_refusalIsAnsweredWithAbortFrame() throws {
        // Once the first frame proved the secret, the responder answers (message 2) and,
        // when it refuses a later message, says so.
        let configuration = StreamPair.configuration(secret: 4)
        var pair = try StreamPair(initiator: configuration, responder: configuration)
        pair.responder.handleBytes(StreamPair.transmit(&pair.initiator, bufferSize: 4096))
        #expect(StreamPair.transmit(&pair.responder, bufferSize: 4096).isEmpty == false)
        pair.responder.handleBytes([0, 0, 0, 3, 1, 2, 3])
        guard case .failed(let error) = pair.responder.pollEvent() else {
            Issue.record("a malformed message 3 did not fail the responder")
            return
        }
        let reason: StreamAbortReason = error == .wrongSwarm ? .wrongSwarm : .handshakeFailed
        #expect(StreamPair.transmit(&pair.responder, bufferSize: 4096) == [0, 0, 0, 1, reason.rawValue])
    }

    @Test func handshake_unexpectedPeer_failsInitiatorWithBothIDs() throws {
        let other = StreamPair.identity(3).peerID
        var pair = try StreamPair(expecting: other)
        pair.run()
        let actual = pair.responderIdentity.peerID
        #expect(pair.initiatorEvents == [.failed(.unexpectedPeer(expected: other, actual: actual))])
        #expect(pair.responderEvents == [.failed(.handshakeFailed)])
    }

    @Test func handshake_everyBitFlipInMessage2_failsWithTypedError() throws {
        var pair = try StreamPair()
        pair.responder.handleBytes(StreamPair.transmit(&pair.initiator, bufferSize: 4096))
        let response = StreamPair.transmit(&pair.responder, bufferSize: 4096)
        for bit in 0..<(response.count * 8) {
            // Sessions are non-copyable: a fresh pair (seeded, so equal) stands in for a copy.
            var fresh = try StreamPair()
            _ = StreamPair.transmit(&fresh.initiator, bufferSize: 4096)
            var initiator = fresh.initiator
            var flipped = response
            flipped[bit / 8] ^= 1 << (bit % 8)
            initiator.handleBytes(flipped)
            initiator.handleEndOfStream()
            guard case .failed = initiator.pollEvent() else {
                Issue.record("bit \(bit) of message 2 did not fail the initiator")
                continue
            }
        }
    }

    @Test func handshake_peerClosesEarly_isTruncated() throws {
        var pair = try StreamPair()
        pair.responder.handleBytes(StreamPair.transmit(&pair.initiator, bufferSize: 4096))
        pair.responder.handleEndOfStream()
        #expect(pair.responder.pollEvent() == .failed(.truncated))
    }

    @Test func handshake_closeBeforeEstablished_abandonsSilently() throws {
        var pair = try StreamPair()
        pair.initiator.close()
        #expect(pair.initiator.isFinished == true)
        #expect(pair.initiator.hasPendingTransmit == false)
        #expect(pair.initiator.pollEvent() == nil)
        #expect(throws: StreamError.closed) { try pair.initiator.send([]) }
    }

    // MARK: Messages

    static let messageSizes = [0, 1, 65535, 65536 + 1]
    static let chunkings: [StreamChunking] = [.whole, .bytewise, .tiny, .medium, .large, .frame, .frameMinusOne]

    @Test(arguments: messageSizes, chunkings)
    func message_survivesChunkingBothWays(size: Int, chunking: StreamChunking) throws {
        var pair = try StreamPair()
        pair.establish()
        let forward = streamTestMessage(size: size, seed: UInt64(size) &+ 100)
        let backward = streamTestMessage(size: size, seed: UInt64(size) &+ 200)
        try pair.initiator.send(forward)
        try pair.responder.send(backward)
        pair.run(chunking: chunking)
        #expect(pair.responderEvents == [.message(forward)], "\(size) bytes, \(chunking)")
        #expect(pair.initiatorEvents == [.message(backward)], "\(size) bytes, \(chunking)")
        #expect(pair.initiator.completedSends == 1 && pair.responder.completedSends == 1)
    }

    @Test(arguments: [StreamChunking.whole, .large, .medium, .frame, .frameMinusOne])
    func message_sixteenMiB_survivesChunkingBothWays(chunking: StreamChunking) throws {
        var pair = try StreamPair()
        pair.establish()
        let forward = streamTestMessage(size: Self.sixteenMiB, seed: 1)
        let backward = streamTestMessage(size: Self.sixteenMiB, seed: 2)
        try pair.initiator.send(forward)
        try pair.responder.send(backward)
        pair.run(chunking: chunking)
        #expect(pair.responderEvents.count == 1 && pair.responderEvents.first == .message(forward))
        #expect(pair.initiatorEvents.count == 1 && pair.initiatorEvents.first == .message(backward))
    }

    @Test(arguments: [StreamConstants.minimumTransmitBuffer, 27, 100, 4096, 65538, StreamConstants.maximumFrameSize])
    func message_smallTransmitBuffers_cutChunksToFit(bufferSize: Int) throws {
        var pair = try StreamPair()
        pair.establish()
        let messages = [0, 1, 300, 65537].map { streamTestMessage(size: $0, seed: UInt64($0)) }
        for message in messages { try pair.initiator.send(message) }
        pair.initiator.close()
        pair.run(chunking: .tiny, transmitBuffer: bufferSize)
        #expect(pair.responderEvents == messages.map { .message($0) } + [.closed])
        #expect(pair.initiator.isFinished && pair.responder.isFinished)
    }

    @Test func message_severalQueued_arriveInOrderWithCompletedSendsCounted() throws {
        var pair = try StreamPair()
        pair.establish()
        let messages = [0, 1, 65535, 65537, 3].map { streamTestMessage(size: $0, seed: UInt64($0) + 7) }
        for message in messages { try pair.initiator.send(message) }
        #expect(pair.initiator.completedSends == 0)
        pair.run(chunking: .medium)
        #expect(pair.responderEvents == messages.map { .message($0) })
        #expect(pair.initiator.completedSends == messages.count)
    }

    @Test func send_aboveOwnMaximum_throwsPayloadTooLarge() throws {
        var pair = try StreamPair(initiatorMaximum: 1000)
        pair.establish()
        #expect(throws: StreamError.payloadTooLarge(size: 1001, maximum: 1000)) {
            try pair.initiator.send([UInt8](repeating: 0, count: 1001))
        }
        try pair.initiator.send([UInt8](repeating: 0, count: 1000))
    }

    @Test func receive_declaredSizeAboveMaximum_failsOnFirstChunkBeforeBuffering() throws {
        var pair = try StreamPair(responderMaximum: 100_000)
        pair.establish()
        try pair.initiator.send(streamTestMessage(size: 1_000_000, seed: 3))
        let stream = StreamPair.transmit(&pair.initiator, bufferSize: 1 << 20)
        // Only the first chunk arrives: its start record declares the whole size.
        let firstChunk = StreamConstants.maximumFrameSize
        pair.responder.handleBytes(Array(stream[..<firstChunk]))
        #expect(pair.responder.pollEvent() == .failed(.payloadTooLarge(size: 1_000_000, maximum: 100_000)))
        #expect(pair.responder.isFinished == true)
        // Nothing after the failure is read or buffered.
        pair.responder.handleBytes(Array(stream[firstChunk...]))
        #expect(pair.responder.pollEvent() == nil)
        #expect(pair.responder.framer.buffer.count == 0)
    }

    // MARK: Corruption

    /// The wire bytes of one message from initiator to responder, and the responder just
    /// before they arrive.
    struct OneMessage: ~Copyable {
        var responder: StreamSession
        let wire: [UInt8]
    }

    /// Sets up ``OneMessage``; every call gives the same bytes and an equal responder
    /// (the sessions are seeded), so a test that spoils a responder makes a fresh one
    /// rather than copying (sessions are non-copyable).
    static func oneMessage(size: Int) throws -> OneMessage {
        var pair = try StreamPair()
        pair.establish()
        try pair.initiator.send(streamTestMessage(size: size, seed: 5))
        let wire = StreamPair.transmit(&pair.initiator, bufferSize: 1 << 20)
        return OneMessage(responder: pair.responder, wire: wire)
    }

    @Test(arguments: [0, 100, 1000, 65537])
    func corruption_everyBitFlipInChunkBodies_failsAuthentication(size: Int) throws {
        let wire = try Self.oneMessage(size: size).wire
        // The chunk bodies: skip each frame's length prefix.
        var bodies: [Range<Int>] = []
        var offset = 0
        while offset < wire.count {
            let length = wire.withUnsafeBytes { StreamWire.loadLength(at: offset, in: $0) }
            bodies.append(offset + 4..<offset + 4 + length)
            offset += 4 + length
        }
        #expect(bodies.count == (size > StreamConstants.maximumStartData ? 2 : 1))
        for body in bodies {
            // Flip every bit of small chunks; of the full-size chunk, every bit of a sample of bytes.
            let bytes = body.count < 2000 ? Array(body) : Array(body.prefix(600)) + Array(body.suffix(600))
            for byte in bytes {
                for bit in 0..<8 {
                    let fresh = try Self.oneMessage(size: size)
                    var session = fresh.responder
                    var flipped = wire
                    flipped[byte] ^= 1 << bit
                    session.handleBytes(flipped)
                    // The message is never delivered: the flipped chunk fails, and with it the stream.
                    #expect(session.pollEvent() == .failed(.authenticationFailed), "byte \(byte) bit \(bit)")
                    #expect(session.pollEvent() == nil)
                }
            }
        }
    }

    @Test func corruption_everyBitFlipInLengthPrefix_failsWithTypedError() throws {
        let wire = try Self.oneMessage(size: 100).wire
        for bit in 0..<32 {
            let fresh = try Self.oneMessage(size: 100)
            var session = fresh.responder
            var flipped = wire
            flipped[bit / 8] ^= 1 << (bit % 8)
            session.handleBytes(flipped)
            session.handleEndOfStream()
            let event = session.pollEvent()
            let typed: Set<StreamError> = [.authenticationFailed, .malformedFrame, .truncated]
            if case .failed(let error) = event {
                #expect(typed.contains(error), "bit \(bit): \(error)")
            } else {
                Issue.record("bit \(bit) of the length prefix: \(String(describing: event))")
            }
        }
    }

    @Test func corruption_replayedOrReorderedChunk_failsAuthentication() throws {
        let wire = try Self.oneMessage(size: 65537).wire
        let firstLength = 4 + wire.withUnsafeBytes { StreamWire.loadLength(at: 0, in: $0) }
        let first = try Self.oneMessage(size: 65537)
        var replayed = first.responder
        replayed.handleBytes(Array(wire[..<firstLength]) + Array(wire[..<firstLength]))
        #expect(replayed.pollEvent() == .failed(.authenticationFailed))
        let second = try Self.oneMessage(size: 65537)
        var reordered = second.responder
        reordered.handleBytes(Array(wire[firstLength...]) + Array(wire[..<firstLength]))
        #expect(reordered.pollEvent() == .failed(.authenticationFailed))
    }

    @Test func garbage_withoutHeader_isRefusedAtTheFirstByte() throws {
        var random = TestRandom(seed: 99)
        for _ in 0..<200 {
            let pair = try StreamPair()
            var session = pair.responder
            var garbage = (0..<Int.random(in: 1...300, using: &random)).map { _ in
                UInt8.random(in: 0...255, using: &random)
            }
            if garbage[0] == StreamConstants.header { garbage[0] = 0x47 }
            session.handleBytes(garbage)
            #expect(session.pollEvent() == .failed(.unsupportedHeader(garbage[0])))
            #expect(session.hasPendingTransmit == false)
        }
        let httpPair = try StreamPair()
        var http = httpPair.responder
        http.handleBytes(Array("GET / HTTP/1.1\r\n".utf8))
        #expect(http.pollEvent() == .failed(.unsupportedHeader(0x47)))
    }

    @Test func garbage_afterHeaderOrAfterHandshake_failsWithTypedErrorNeverTraps() throws {
        var random = TestRandom(seed: 123)
        func expectFailed(_ session: inout StreamSession, round: Int, length: Int) {
            guard case .failed = session.pollEvent() else {
                Issue.record("round \(round): \(length) garbage bytes did not fail the session")
                return
            }
            #expect(session.pollEvent() == nil)
        }
        for round in 0..<300 {
            let length = Int.random(in: 0...2000, using: &random)
            let garbage = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            // Garbage in place of a handshake, and in place of transport chunks.
            let fresh = try StreamPair()
            var responder = fresh.responder
            responder.handleBytes([StreamConstants.header] + garbage)
            responder.handleEndOfStream()
            expectFailed(&responder, round: round, length: length)
            var pair = try StreamPair()
            pair.establish()
            pair.responder.handleBytes(garbage)
            pair.responder.handleEndOfStream()
            expectFailed(&pair.responder, round: round, length: length)
        }
    }

    // MARK: Closing and truncation

    @Test func close_exchangesCloseRecordsAfterQueuedMessages() throws {
        var pair = try StreamPair()
        pair.establish()
        try pair.initiator.send([1, 2, 3])
        pair.initiator.close()
        #expect(throws: StreamError.closed) { try pair.initiator.send([4]) }
        try pair.responder.send([5])
        pair.run(chunking: .tiny)
        #expect(pair.responderEvents == [.message([1, 2, 3]), .closed])
        #expect(pair.initiatorEvents == [.message([5]), .closed])
        #expect(pair.initiator.isFinished && pair.responder.isFinished)
        #expect(throws: StreamError.closed) { try pair.responder.send([6]) }
        pair.initiator.handleEndOfStream()
        pair.responder.handleEndOfStream()
        pair.drain()
        #expect(pair.initiatorEvents.last == .closed && pair.responderEvents.last == .closed)
    }

    @Test(arguments: [1, 2, 4, 5, 30, 65000])
    func truncation_streamEndsInsideMessage_isTruncated(missing: Int) throws {
        let message = try Self.oneMessage(size: 65537)
        let wire = message.wire
        var session = message.responder
        session.handleBytes(Array(wire.dropLast(missing)))
        #expect(session.pollEvent() == nil)
        session.handleEndOfStream()
        #expect(session.pollEvent() == .failed(.truncated))
    }

    @Test func truncation_streamEndsAtMessageBoundaryWithoutClose_isTruncated() throws {
        let message = try Self.oneMessage(size: 10)
        let wire = message.wire
        var session = message.responder
        session.handleBytes(wire)
        #expect(session.pollEvent() == .message(streamTestMessage(size: 10, seed: 5)))
        session.handleEndOfStream()
        #expect(session.pollEvent() == .failed(.truncated))
    }

    // MARK: Configuration and documentation

    @Test func init_refusesBadConfiguration() {
        var random = TestRandom(seed: 1)
        var configuration = SessionConfiguration.lan
        configuration.swarmSecret = [1, 2, 3]
        #expect(throws: SessionConfiguration.ValidationError.swarmSecretLength(3)) {
            _ = try StreamSession(
                role: .responder, identity: StreamPair.identity(1), configuration: configuration,
                wallClock: StreamPair.wallClock, random: &random)
        }
        #expect(throws: SessionConfiguration.ValidationError.nonPositive(field: "maximumMessageSize")) {
            _ = try StreamSession(
                role: .responder, identity: StreamPair.identity(1), maximumMessageSize: 0,
                wallClock: StreamPair.wallClock, random: &random)
        }
    }

    @Test func document_streamOpeningExample_matchesEncoding() throws {
        let bytes = try #require(try ProtocolDocTests.examples()["stream-opening"])
        let placeholder = [UInt8](0xE0...0xFF)
        var expected = [StreamConstants.header]
        StreamWire.appendFrame(StreamWire.makeInitiation(kind: .xx, noiseMessage: placeholder), to: &expected)
        #expect(bytes == expected)
        // A real session's opening has the same shape, with its own ephemeral key.
        var pair = try StreamPair()
        let opening = StreamPair.transmit(&pair.initiator, bufferSize: 4096)
        #expect(opening.count == bytes.count && opening.prefix(6) == bytes.prefix(6))
    }

    @Test func document_messageStartExample_matchesEncoding() throws {
        let bytes = try #require(try ProtocolDocTests.examples()["stream-message-start"])
        #expect(bytes == StreamWire.makeMessageStart(length: 5, data: Array("hello".utf8)))
    }
}
