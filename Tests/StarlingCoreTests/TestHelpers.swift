import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Bytes from a hex string with optional spaces and newlines, or nil for bad hex.
func parseHex(_ text: some StringProtocol) -> [UInt8]? {
    let digits = Array(text.utf8).filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\n") }
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    for index in stride(from: 0, to: digits.count, by: 2) {
        guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
            return nil
        }
        bytes.append(byte)
    }
    return bytes
}

/// Bytes from a hex literal written in a test (traps on bad hex: a bug in the test).
func hex(_ text: String) -> [UInt8] { parseHex(text)! }

/// Lowercase hex of bytes.
func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

/// Two endpoints wired back to back: every datagram one sends, the other receives at
/// once, unless the test takes it out of flight first.
struct EndpointPair {
    /// The first endpoint.
    var a: SessionEndpoint
    /// The second endpoint.
    var b: SessionEndpoint
    /// Where A's datagrams come from.
    let addressA = PeerAddress.ipv4(127, 0, 0, 1, port: 4001)
    /// Where B's datagrams come from.
    let addressB = PeerAddress.ipv4(127, 0, 0, 2, port: 4002)
    /// The virtual clock; only the test moves it.
    var now = Instant(nanoseconds: 1_000_000_000)
    /// A's events so far.
    var eventsA: [SessionEvent] = []
    /// B's events so far.
    var eventsB: [SessionEvent] = []
    /// Every datagram that crossed, as (sender is A, bytes).
    var wire: [(fromA: Bool, bytes: [UInt8])] = []

    /// Creates two endpoints with identities and randomness from `seed`, in swarms with
    /// the given secrets.
    init(seed: UInt64, secretA: [UInt8]? = nil, secretB: [UInt8]? = nil) throws {
        var random = TestRandom(seed: seed)
        var configurationA = SessionConfiguration.local
        configurationA.swarmSecret = secretA
        var configurationB = SessionConfiguration.local
        configurationB.swarmSecret = secretB
        a = try SessionEndpoint(
            identity: .generate(using: &random), configuration: configurationA, random: TestRandom(seed: seed &+ 1))
        b = try SessionEndpoint(
            identity: .generate(using: &random), configuration: configurationB, random: TestRandom(seed: seed &+ 2))
    }

    /// Delivers datagrams back and forth until neither side has anything to send.
    /// - Parameter filter: returns false for a datagram to lose it.
    mutating func pump(filter: (_ fromA: Bool, _ bytes: [UInt8]) -> Bool = { _, _ in true }) {
        // A filter may count what it drops: it runs once per datagram, in order.
        var buffer: [UInt8] = []
        var moved = true
        var rounds = 0
        while moved && rounds < 1000 {
            moved = false
            rounds += 1
            while a.pollTransmit(now: now, into: &buffer) != nil {
                moved = true
                wire.append((true, buffer))
                if filter(true, buffer) { buffer.withUnsafeBytes { b.handleDatagram($0, from: addressA, now: now) } }
            }
            while b.pollTransmit(now: now, into: &buffer) != nil {
                moved = true
                wire.append((false, buffer))
                if filter(false, buffer) { buffer.withUnsafeBytes { a.handleDatagram($0, from: addressB, now: now) } }
            }
        }
        while let event = a.pollEvent() { eventsA.append(event) }
        while let event = b.pollEvent() { eventsB.append(event) }
    }

    /// Advances time to the earlier deadline of the two and fires it.
    mutating func advanceToNextDeadline() {
        let deadlines = [a.pollTimeout(), b.pollTimeout()].compactMap { $0 }
        guard let next = deadlines.min() else { return }
        now = max(now, next)
        if let deadline = a.pollTimeout(), deadline <= now { a.handleTimeout(now: now) }
        if let deadline = b.pollTimeout(), deadline <= now { b.handleTimeout(now: now) }
    }

    /// The payloads of the datagram events among `events`.
    func datagrams(in events: [SessionEvent]) -> [[UInt8]] {
        events.compactMap { if case .datagram(_, let payload) = $0 { payload } else { nil } }
    }
}

/// A datagram taken out of flight, to be delivered later, out of order, twice, or from
/// another address.
struct HeldDatagram {
    /// Whether A sent it.
    var fromA: Bool
    /// Where its sender addressed it.
    var destination: PeerAddress
    /// Its bytes.
    var bytes: [UInt8]

    /// Its message type.
    var type: MessageType? { bytes.count > 1 ? MessageType(rawValue: bytes[1]) : nil }
    /// Whether it is a transport packet with an empty plaintext: a keepalive.
    var isKeepalive: Bool { type == .transportData && bytes.count == TransportHeader.size + TransportHeader.tagSize }
}

extension EndpointPair {
    /// A's peer ID.
    var idA: PeerID { a.identity.peerID }
    /// B's peer ID.
    var idB: PeerID { b.identity.peerID }
    /// Whether A's ID comes first in byte order, so that A's handshake wins a crossing.
    var aIsLower: Bool { idA.publicKey.bytes.lexicographicallyPrecedes(idB.publicKey.bytes) }
    /// A's current keys for B.
    var keysA: TransportKeys? { a.peers[idB]?.current }
    /// B's current keys for A.
    var keysB: TransportKeys? { b.peers[idA]?.current }

    /// Connects A to B (IK when `ik`, else XX), delivers everything, and requires both
    /// sides established with nothing left pending.
    mutating func establish(ik: Bool = true) throws {
        a.connect(to: addressB, expecting: ik ? idB : nil, now: now)
        pump()
        try #require(a.isEstablished(with: idB) && b.isEstablished(with: idA))
        try #require(a.pendingHandshakeCount == 0 && b.pendingHandshakeCount == 0)
    }

    /// A connects to B (IK when `ik`, else XX); with IK it also sends a payload that waits
    /// for the session.
    mutating func connectA(ik: Bool) {
        a.connect(to: addressB, expecting: ik ? idB : nil, now: now)
        if ik { try? a.send([0xA], to: idB, now: now) }
    }

    /// B connects to A, like ``connectA(ik:)``.
    mutating func connectB(ik: Bool) {
        b.connect(to: addressA, expecting: ik ? idA : nil, now: now)
        if ik { try? b.send([0xB], to: idA, now: now) }
    }

    /// Takes everything both sides want to send out of flight, A's first, and records it
    /// on ``wire``.
    mutating func takeOutbound() -> [HeldDatagram] {
        var held: [HeldDatagram] = []
        var buffer: [UInt8] = []
        while let destination = a.pollTransmit(now: now, into: &buffer) {
            held.append(HeldDatagram(fromA: true, destination: destination, bytes: buffer))
        }
        while let destination = b.pollTransmit(now: now, into: &buffer) {
            held.append(HeldDatagram(fromA: false, destination: destination, bytes: buffer))
        }
        wire += held.map { ($0.fromA, $0.bytes) }
        return held
    }

    /// Hands `held` to its receiver now, from its sender's usual address unless `source`
    /// is given, and collects the events.
    mutating func deliver(_ held: HeldDatagram, from source: PeerAddress? = nil) {
        if held.fromA {
            held.bytes.withUnsafeBytes { b.handleDatagram($0, from: source ?? addressA, now: now) }
        } else {
            held.bytes.withUnsafeBytes { a.handleDatagram($0, from: source ?? addressB, now: now) }
        }
        collectEvents()
    }

    /// Moves both sides' pending events to ``eventsA`` and ``eventsB``.
    mutating func collectEvents() {
        while let event = a.pollEvent() { eventsA.append(event) }
        while let event = b.pollEvent() { eventsB.append(event) }
    }

    /// Advances the clock to `end`, firing every deadline due on the way at its own
    /// instant and delivering (through `filter`) what the timers send.
    mutating func run(until end: Instant, filter: (_ fromA: Bool, _ bytes: [UInt8]) -> Bool = { _, _ in true }) {
        for _ in 0..<10_000 {
            guard let next = [a.pollTimeout(), b.pollTimeout()].compactMap({ $0 }).min(), next <= end else { break }
            now = max(now, next)
            if let deadline = a.pollTimeout(), deadline <= now { a.handleTimeout(now: now) }
            if let deadline = b.pollTimeout(), deadline <= now { b.handleTimeout(now: now) }
            pump(filter: filter)
        }
        now = max(now, end)
    }

    /// Datagrams of `type` on the wire from index `start` on, sent by A (`fromA`) or B.
    func count(_ type: MessageType, fromA: Bool, since start: Int) -> Int {
        wire[start...].filter { $0.fromA == fromA && $0.bytes[1] == type.rawValue }.count
    }

    /// Completes a second IK handshake from A at once, so that the first initiation
    /// is no longer the last one B answered (B drops a copy of that one).
    /// - Returns: the first initiation, now replayable.
    mutating func supersedeFirstInitiation() throws -> [UInt8] {
        let first = try #require(wire.first { $0.fromA && $0.bytes[1] == MessageType.handshakeInitiation.rawValue })
        a.startRekey(with: idB, now: now)
        pump()
        try #require(a.isEstablished(with: idB) && a.pendingHandshakeCount == 0)
        return first.bytes
    }

    /// Events of both sides other than datagrams.
    func nonDatagramEvents() -> [SessionEvent] {
        (eventsA + eventsB).filter { if case .datagram = $0 { false } else { true } }
    }
}
