internal import DequeModule

/// One side of an encrypted Starling stream over a reliable byte stream (TCP), sans-I/O.
///
/// ### Purpose
/// A stream carries application messages of up to ``maximumMessageSize`` bytes (16 MiB
/// by default), larger than any datagram. It opens with a one-byte header
/// (``StreamConstants/header``) from each side and a Noise `XX` handshake
/// (`XXpsk3` when the swarm has a secret) with the same prologue as the datagram
/// sessions, so only peers of one swarm (and one swarm secret) complete it. With a swarm
/// secret the initiator's first frame also carries a swarm MAC (``StreamAdmission``),
/// and a responder answers nothing at all to a first frame without a valid one. Every frame
/// is a big-endian u32 length and a body; after the handshake each body is one Noise
/// transport message (nonce = its counter), and a message is split into as many of
/// these chunks as it needs. `docs/PROTOCOL.md` ("Streams") defines every byte.
///
/// The session reads no clock, no socket and no system randomness: its driver feeds it
/// the bytes it reads and writes the bytes it polls. The handshake timeout belongs to
/// the driver.
///
/// ### Usage
/// The four kinds of method:
/// - getters: ``role``, ``remotePeer``, ``isEstablished``, ``isFinished``,
///   ``hasPendingTransmit``, ``transmitSizeHint(limit:)``, ``completedSends``, ``failure``;
/// - inputs: ``handleBytes(_:)-(UnsafeRawBufferPointer)`` with whatever the stream
///   delivered (any chunking), ``handleEndOfStream()`` when it ends;
/// - commands: ``send(_:)`` and ``close()``;
/// - outputs: ``pollTransmit(into:)`` and ``pollEvent()``.
///
/// After every input or command, drain the outputs in this order: write everything
/// ``pollTransmit(into:)`` gives (the initiator's first bytes are ready as soon as it
/// is created), then handle every ``pollEvent()``. When ``isFinished`` is true and
/// nothing is left to transmit, close the connection.
///
/// ```swift
/// var session = try StreamSession(
///     role: .initiator(expecting: peer), identity: me, wallClock: SystemClock.wallNow(), random: &rng)
/// session.handleBytes(received)
/// session.pollTransmit(appendingTo: &outgoing)
/// while let event = session.pollEvent() { … }
/// ```
///
/// ### Memory
/// Input is framed in slices of one frame, so the frame buffer holds at most about two
/// frames (128 KiB); a message being received is checked against
/// ``maximumMessageSize`` and then reserved as its bytes arrive (64 KiB at first,
/// growing by doubling), so a declared length costs nothing until it is sent. Sending seals lazily:
/// queued messages are encrypted chunk by chunk into the buffer the driver lends to
/// ``pollTransmit(into:)``, so the session never holds a ciphertext copy of a message.
///
/// A session is non-copyable, as its transport cipher states are: a copy would reuse
/// their nonces. One driver owns it and lends it out with `inout`.
public struct StreamSession: ~Copyable, Sendable {
    /// Which side of the handshake this session plays.
    public enum Role: Equatable, Sendable {
        /// The side that opened the connection; it sends the first handshake message. When
        /// `expecting` names a peer, a different peer ends the handshake with
        /// ``StreamError/unexpectedPeer(expected:actual:)``.
        case initiator(expecting: PeerID?)
        /// The side that accepted the connection.
        case responder
    }

    /// This side's role.
    public let role: Role
    /// The largest message this side sends or accepts, in bytes.
    public let maximumMessageSize: Int
    /// The handshake both sides must run: `XX`, or `XXpsk3` with a swarm secret.
    let kind: HandshakeKind
    /// This side's identity payload, proving its peer ID to the other side.
    let identityPayload: [UInt8]
    /// The swarm MAC of the initiator's first frame, with a swarm secret; nil in an
    /// open swarm.
    let admission: StreamAdmission?
    /// The wall-clock time the session was created at: stamped into a private swarm's
    /// opening by the initiator, checked against it by the responder.
    let wallClock: UnixTime
    /// Whether the other side may hear from this one: false only for a responder of a
    /// private swarm until the initiator's first frame carried a valid swarm MAC, so
    /// that nothing (not even an abort frame) answers an outsider.
    var peerAdmitted: Bool

    var state: State
    /// The transport cipher states, from the end of the handshake on; `nil` before.
    /// They live here rather than in ``State``, which stays copyable: a step takes them
    /// out (`Optional.take()`) while it seals or opens, then puts them back.
    var keys: NoiseTransportKeys?
    /// Cuts the input after the header into frames of at most one Noise message.
    var framer = try! LengthPrefixFramer(width: .u32, maximum: StreamConstants.maximumFrameBody)
    /// Whether the peer's header byte has been read and checked.
    var headerReceived = false
    /// Whether this side's header byte is in ``wireOutput`` (or was sent).
    var headerQueued = false
    /// Bytes ready to send as they are (header, handshake and abort frames, sealed
    /// control records); ``wireOffset`` of them are already sent.
    var wireOutput: [UInt8] = []
    var wireOffset = 0
    /// Messages and control records still to seal, in order.
    var outgoing = Deque<OutgoingItem>()
    /// How far the first of ``outgoing`` is sealed, when it is a message.
    var outgoingOffset: Int?
    var events = Deque<StreamEvent>()

    /// The number of messages whose last chunk ``pollTransmit(into:)`` has produced,
    /// counting from the first ``send(_:)``: the driver completes a send once this
    /// count passes it.
    public internal(set) var completedSends = 0

    /// Creates a session and, for the initiator, its first bytes (header and handshake
    /// message 1), ready in ``pollTransmit(into:)``.
    ///
    /// - Parameters:
    ///   - role: initiator (optionally naming the peer it expects) or responder.
    ///   - identity: this peer's identity; its X25519 form is the Noise static key.
    ///   - configuration: the swarm ID (the prologue) and swarm secret (the psk); the
    ///     other fields are the datagram sessions' and unused here.
    ///   - maximumMessageSize: the largest message sent or accepted; values above
    ///     2^32-1 act as 2^32-1. A message being received holds at most about twice
    ///     the bytes received so far.
    ///   - wallClock: the current wall-clock time (unused in an open swarm). With a swarm
    ///     secret the initiator puts it in its opening and the responder refuses an
    ///     opening whose time is more than ``StreamConstants/openingWindow`` from it;
    ///     the driver's handshake timeout keeps a responder's value close to the time
    ///     the opening arrives.
    ///   - random: the source of the handshake's ephemeral key: ``SecureRandom`` for real
    ///     use, a seeded generator in tests.
    /// - Throws: ``SessionConfiguration/ValidationError`` for a swarm ID or secret that
    ///   is not 32 bytes, or a maximum message size below 1.
    public init(
        role: Role, identity: IdentityKeyPair, configuration: SessionConfiguration = .lan,
        maximumMessageSize: Int = StreamConstants.defaultMaximumMessageSize, wallClock: UnixTime,
        random: inout some RandomNumberGenerator
    ) throws(SessionConfiguration.ValidationError) {
        try configuration.validate()
        guard maximumMessageSize > 0 else { throw .nonPositive(field: "maximumMessageSize") }
        self.role = role
        self.maximumMessageSize = min(maximumMessageSize, StreamConstants.largestDeclarableMessage)
        let kind = HandshakeKind.choose(knowsResponderKey: false, hasSwarmSecret: configuration.swarmSecret != nil)
        self.kind = kind
        identityPayload = HandshakePayload(peerID: identity.peerID).encoded
        admission = configuration.swarmSecret.map { StreamAdmission(swarmID: configuration.swarmID, swarmSecret: $0) }
        self.wallClock = wallClock
        // A pattern match, not `role != .responder`: that comparison here, with `state`
        // not yet set, made Swift 6.3's optimizer release a State it never held
        // (release builds crashed after a few hundred sessions; found by the fuzzer).
        if case .responder = role { peerAdmitted = admission == nil } else { peerAdmitted = true }
        let handshake: NoiseHandshake
        do {
            handshake = try NoiseHandshake(
                protocolName: kind.protocolName, initiator: role != .responder, prologue: configuration.prologue,
                localStatic: (identity.x25519SecretKey, identity.x25519PublicKey),
                presharedKeys: configuration.swarmSecret.map { [$0] } ?? [], generator: &random)
        } catch {
            fatalError("Noise refused a validated identity and swarm secret: \(error)")
        }
        switch role {
        case .responder:
            state = .responderAwaitingInitiation(handshake)
        case .initiator:
            state = .modifying
            state = .initiatorAwaitingResponse(startInitiation(handshake))
        }
    }

    // MARK: Getters

    /// The peer whose identity the handshake proved, once established.
    public var remotePeer: PeerID? {
        switch state {
        case .established(let transport), .initiatorAwaitingConfirmation(let transport): transport.peer
        default: nil
        }
    }

    /// True from ``StreamEvent/established(peer:)`` until the stream closes or fails.
    public var isEstablished: Bool {
        if case .established = state { true } else { false }
    }

    /// True once the session will neither read nor produce anything more beyond what
    /// ``hasPendingTransmit`` still holds: it failed, was closed before its handshake
    /// completed, or both sides have sent their close records.
    public var isFinished: Bool {
        switch state {
        case .closed, .failed: true
        case .established(let transport): transport.closeSent && transport.closeReceived
        default: false
        }
    }

    /// The error the session failed with, if it failed.
    public var failure: StreamError? {
        if case .failed(let error) = state { error } else { nil }
    }

    /// True while ``pollTransmit(into:)`` has bytes to give.
    public var hasPendingTransmit: Bool { wireOffset < wireOutput.count || !outgoing.isEmpty }

    /// A buffer size that takes everything now pending in one ``pollTransmit(into:)``,
    /// or `limit` if that is less: the ready bytes, plus each queued message's unsent
    /// bytes and the most framing they can need.
    /// - Parameter limit: the largest buffer the driver is willing to lend; the sum
    ///   stops growing (and the queue is no longer walked) once it passes this.
    /// - Returns: a size between 0 and `limit`.
    public func transmitSizeHint(limit: Int) -> Int {
        var total = wireOutput.count - wireOffset
        for (index, item) in outgoing.enumerated() where total < limit {
            switch item {
            case .close: total += StreamConstants.chunkOverhead + StreamConstants.recordTypeSize
            case .message(let bytes):
                let remaining = bytes.count - (index == 0 ? outgoingOffset ?? 0 : 0)
                let chunks = remaining / StreamConstants.maximumStartData + 1
                total += remaining + chunks * StreamConstants.minimumTransmitBuffer
            }
        }
        return min(total, limit)
    }

    // MARK: Commands

    /// Queues an application message; ``pollTransmit(into:)`` seals it chunk by chunk.
    ///
    /// The message is kept, not copied (arrays share storage until mutated), until its
    /// last chunk is sealed; ``completedSends`` then counts it.
    /// - Parameter message: the message, of 0 to ``maximumMessageSize`` bytes.
    /// - Throws: ``StreamError/payloadTooLarge(size:maximum:)`` for a larger message,
    ///   ``StreamError/notEstablished`` before the handshake completed,
    ///   ``StreamError/closed`` after ``close()`` or the peer's close, or the error the
    ///   session failed with.
    public mutating func send(_ message: [UInt8]) throws(StreamError) {
        switch state {
        case .established(let transport):
            guard !transport.closeQueued else { throw .closed }
        case .failed(let error): throw error
        case .closed: throw .closed
        case .modifying: fatalError("StreamSession.send during a state change")
        default: throw .notEstablished
        }
        guard message.count <= maximumMessageSize else {
            throw .payloadTooLarge(size: message.count, maximum: maximumMessageSize)
        }
        outgoing.append(.message(message))
    }

    /// Ends the stream from this side.
    ///
    /// Once established, queues a close record after every queued message; the session
    /// still reads (and reports) what the peer sent before its own close record, which a
    /// Starling peer sends in answer. Before the handshake completes, abandons it: the
    /// session is finished at once and sends nothing more. Calling it again does nothing.
    public mutating func close() {
        switch state {
        case .established(var transport):
            guard !transport.closeQueued else { return }
            state = .modifying
            transport.closeQueued = true
            outgoing.append(.close)
            state = .established(transport)
        case .closed, .failed:
            return
        case .modifying:
            fatalError("StreamSession.close during a state change")
        default:
            state = .closed
            wireOutput = []
            wireOffset = 0
        }
    }

    // MARK: Inputs

    /// Feeds bytes read from the stream, in order, in any chunking.
    ///
    /// - Parameter bytes: the next bytes of the stream; only read during the call.
    public mutating func handleBytes(_ bytes: UnsafeRawBufferPointer) {
        var start = 0
        if !headerReceived, acceptsInput, let first = bytes.first {
            guard first == StreamConstants.header else {
                return fail(.unsupportedHeader(first), notifyPeer: false)
            }
            headerReceived = true
            start = 1
        }
        while start < bytes.count, acceptsInput {
            let end = min(start + StreamConstants.inputSlice, bytes.count)
            framer.append(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            start = end
            drainFrames()
        }
    }

    /// Feeds bytes read from the stream, in order, in any chunking.
    ///
    /// - Parameter bytes: the next bytes of the stream.
    public mutating func handleBytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { handleBytes($0) }
    }

    /// Reports that the stream ended (the peer closed its side, or the connection was
    /// lost).
    ///
    /// After the peer's close record this is the expected end; anywhere else it fails
    /// the session with ``StreamError/truncated``.
    public mutating func handleEndOfStream() {
        switch state {
        case .closed, .failed: return
        case .established(let transport) where transport.closeReceived: return
        default: fail(.truncated, notifyPeer: false)
        }
    }

    // MARK: Outputs

    /// Returns the next event, or nil when there is none.
    public mutating func pollEvent() -> StreamEvent? {
        events.popFirst()
    }

    // MARK: Internals

    /// True while input can still change anything.
    var acceptsInput: Bool {
        switch state {
        case .closed, .failed: false
        case .established(let transport): !transport.closeReceived
        default: true
        }
    }

    /// Cuts and handles every whole frame the framer holds.
    mutating func drainFrames() {
        while acceptsInput {
            let frame: [UInt8]
            do {
                guard case .frame(let next) = try framer.next() else { return }
                frame = next
            } catch {
                return fail(.malformedFrame, notifyPeer: true)
            }
            handleFrame(frame)
        }
    }

    /// Routes one frame body by the session's state.
    mutating func handleFrame(_ frame: [UInt8]) {
        switch state {
        case .responderAwaitingInitiation(let handshake):
            handleInitiation(frame, handshake)
        case .initiatorAwaitingResponse(let handshake):
            handleResponse(frame, handshake)
        case .responderAwaitingCompletion(let handshake):
            handleCompletion(frame, handshake)
        case .initiatorAwaitingConfirmation(let transport):
            handleConfirmation(frame, transport)
        case .established(var transport):
            state = .modifying
            handleChunk(frame, &transport)
            if case .modifying = state { state = .established(transport) }
        case .closed, .failed:
            return
        case .modifying:
            fatalError("StreamSession.handleFrame during a state change")
        }
    }

    /// Fails the session: reports `error`, drops everything still to send and, when
    /// `notifyPeer` is true, the handshake is still running and the peer is admitted
    /// (``peerAdmitted``), sends an abort frame so the peer reports a matching error.
    mutating func fail(_ error: StreamError, notifyPeer: Bool) {
        let inHandshake: Bool
        switch state {
        case .responderAwaitingInitiation, .initiatorAwaitingResponse, .responderAwaitingCompletion:
            inHandshake = true
        default:
            inHandshake = false
        }
        state = .failed(error)
        outgoing.removeAll()
        outgoingOffset = nil
        if inHandshake && notifyPeer && peerAdmitted {
            let reason: StreamAbortReason = error == .wrongSwarm ? .wrongSwarm : .handshakeFailed
            queueCleartextFrame([reason.rawValue])
        } else {
            wireOutput = []
            wireOffset = 0
        }
        events.append(.failed(error))
    }

    /// Queues a cleartext frame, after this side's header if it has not gone yet.
    mutating func queueCleartextFrame(_ body: [UInt8]) {
        if !headerQueued {
            wireOutput.append(StreamConstants.header)
            headerQueued = true
        }
        StreamWire.appendFrame(body, to: &wireOutput)
    }
}

extension StreamSession {
    /// Where the session is; each case carries what that step needs.
    enum State: Sendable {
        /// The initiator sent its header and message 1 and waits for message 2.
        case initiatorAwaitingResponse(NoiseHandshake)
        /// The initiator sent message 3 and holds the keys; it waits for the
        /// responder's confirm record before reporting the stream established.
        case initiatorAwaitingConfirmation(Transport)
        /// The responder waits for the initiator's header and message 1.
        case responderAwaitingInitiation(NoiseHandshake)
        /// The responder sent its header and message 2 and waits for message 3.
        case responderAwaitingCompletion(NoiseHandshake)
        /// Both sides hold the keys; messages flow.
        case established(Transport)
        /// Finished without error: both close records exchanged, or abandoned by
        /// ``close()`` before the handshake completed.
        case closed
        /// Finished with an error.
        case failed(StreamError)
        /// Transient, while a method changes the state; never observed from outside.
        case modifying
    }

    /// The per-direction progress of an established stream; its cipher states are
    /// ``StreamSession/keys`` (the sending nonce counts the chunks sent, the receiving
    /// one the chunks received).
    struct Transport: Sendable {
        /// The proven peer.
        let peer: PeerID
        /// The message being reassembled, if one has started.
        var inbound: InboundMessage?
        /// This side's close record is queued (no more sends).
        var closeQueued = false
        /// This side's close record has been sealed into the output.
        var closeSent = false
        /// The peer's close record arrived.
        var closeReceived = false

        init(peer: PeerID) {
            self.peer = peer
        }
    }

    /// A message whose start record arrived and whose bytes are still arriving.
    struct InboundMessage: Sendable {
        /// The length its start record declared.
        let declaredLength: Int
        /// The bytes so far; capacity grows with them (see
        /// ``StreamConstants/initialReceiveReservation``).
        var bytes: [UInt8]

        /// Bytes still to come.
        var remaining: Int { declaredLength - bytes.count }
    }

    /// Something queued for sealing, in order.
    enum OutgoingItem: Sendable {
        /// An application message.
        case message([UInt8])
        /// This side's close record.
        case close
    }
}
