import StarlingCore

/// The fixed identities and addresses of the stateful targets: the core under test
/// (the victim), the well-behaved peer it talks to (the partner), and strangers.
enum FuzzIdentities {
    static let victim = try! IdentityKeyPair(seed: [UInt8](repeating: 0x01, count: 32))
    static let partner = try! IdentityKeyPair(seed: [UInt8](repeating: 0x02, count: 32))
    static let victimAddress = PeerAddress.ipv4(10, 0, 0, 1, port: 7946)
    static let partnerAddress = PeerAddress.ipv4(10, 0, 0, 2, port: 7946)
    /// Where injected datagrams claim to come from: the partner, a stranger, and two
    /// spoofed addresses.
    static let sources = [
        partnerAddress, .ipv4(10, 0, 0, 3, port: 7946), .ipv4(192, 0, 2, 7, port: 40000),
        PeerAddress(host: .ipv6(high: 0x2001_0DB8_0000_0000, low: 9), port: 1),
    ]
}

/// Two cores of one kind on a lossless link, driven by a script: the fuzzer's input.
///
/// The partner speaks the protocol correctly, so its datagrams reach state that random
/// bytes never would (past MACs, AEADs and signatures); the script decides what the
/// victim sees: the partner's datagrams in order, mutated, cut short or replayed, raw
/// bytes from any source, time passing, and commands on either side. After every step
/// both cores are polled to exhaustion, as a driver does.
///
/// Each step is one opcode byte (low three bits) and its operands:
/// - `0`: raw datagram to the victim: length byte (×8 when bit 3 is set), then the
///   bytes; bits 4–5 pick the source.
/// - `1`: the partner's next datagram to the victim, as sent.
/// - `2`: the victim's next datagram to the partner.
/// - `3`: the partner's next datagram with one byte changed: position, XOR value.
/// - `4`: one of the last datagrams the victim received, again (a replay).
/// - `5`: time passes: a byte of 10 ms steps (of seconds when bit 3 is set); due timers fire.
/// - `6`: a command on the partner (on the victim when bit 3 is set): one operand byte.
/// - `7`: the partner's next datagram cut to a length byte.
struct CorePair<Core: ProtocolCore> {
    /// A command on one core: the operand byte, the other side, and the time.
    typealias Command = (inout Core, UInt8, _ other: (id: PeerID, address: PeerAddress), Instant) -> Void
    /// What a core does with each event it reports (answers a request, say).
    typealias React = (inout Core, Core.Event, Instant) -> Void

    var victim: Core
    var partner: Core
    let command: Command
    let react: React
    var now = Instant.zero
    private var toVictim: [[UInt8]] = []
    private var toPartner: [[UInt8]] = []
    private var received: [[UInt8]] = []
    private var buffer: [UInt8] = []
    /// Every datagram either core sent, when set (the corpus maker's capture).
    var sent: [[UInt8]]?

    /// Most datagrams queued per direction, and kept for replays.
    static var queueLimit: Int { 256 }
    static var replayLimit: Int { 16 }
    /// Most steps of one script: bounds each input's running time.
    static var stepLimit: Int { 400 }

    init(victim: Core, partner: Core, command: @escaping Command, react: @escaping React = { _, _, _ in }) {
        self.victim = victim
        self.partner = partner
        self.command = command
        self.react = react
    }

    /// Runs the script in `input`, then lets a minute pass so pending timers fire.
    mutating func run(_ input: inout FuzzInput) {
        drain()
        var steps = 0
        while let op = input.byte(), steps < Self.stepLimit {
            steps += 1
            step(op, &input)
            drain()
        }
        advance(by: .seconds(60))
        drain()
    }

    private mutating func step(_ op: UInt8, _ input: inout FuzzInput) {
        let high = op & 0x08 != 0
        switch op & 0x07 {
        case 0:
            let length = Int(input.byte() ?? 0) * (high ? 8 : 1)
            let source = FuzzIdentities.sources[Int(op >> 4) & 0x03]
            deliver(input.take(length), from: source)
        case 1:
            if !toVictim.isEmpty { deliver(toVictim.removeFirst(), from: FuzzIdentities.partnerAddress) }
        case 2:
            if !toPartner.isEmpty {
                let datagram = toPartner.removeFirst()
                datagram.withUnsafeBytes { partner.handleDatagram($0, from: FuzzIdentities.victimAddress, now: now) }
            }
        case 3:
            let position = Int(input.byte() ?? 0)
            let value = input.byte() ?? 0xFF
            if !toVictim.isEmpty {
                var datagram = toVictim.removeFirst()
                if !datagram.isEmpty { datagram[position % datagram.count] ^= value == 0 ? 0x80 : value }
                deliver(datagram, from: FuzzIdentities.partnerAddress)
            }
        case 4:
            let index = Int(input.byte() ?? 0)
            if !received.isEmpty { deliver(received[index % received.count], from: FuzzIdentities.partnerAddress) }
        case 5:
            let count = Int64(input.byte() ?? 0)
            advance(by: high ? .seconds(count) : .milliseconds(count * 10))
        case 6:
            let operand = input.byte() ?? 0
            if high {
                command(&victim, operand, (FuzzIdentities.partner.peerID, FuzzIdentities.partnerAddress), now)
            } else {
                command(&partner, operand, (FuzzIdentities.victim.peerID, FuzzIdentities.victimAddress), now)
            }
        default:
            let length = Int(input.byte() ?? 0)
            if !toVictim.isEmpty {
                deliver(Array(toVictim.removeFirst().prefix(length)), from: FuzzIdentities.partnerAddress)
            }
        }
    }

    private mutating func deliver(_ datagram: [UInt8], from source: PeerAddress) {
        datagram.withUnsafeBytes { victim.handleDatagram($0, from: source, now: now) }
        received.append(datagram)
        if received.count > Self.replayLimit { received.removeFirst() }
    }

    /// Moves time on by `duration`, firing each core's timers as they fall due.
    private mutating func advance(by duration: Duration) {
        let end = now + duration
        var rounds = 0
        while rounds < 64 {
            rounds += 1
            let next = [victim.pollTimeout(), partner.pollTimeout()].compactMap { $0 }.min()
            guard let next, next <= end else { break }
            now = max(now, next)
            if let due = victim.pollTimeout(), due <= now { victim.handleTimeout(now: now) }
            if let due = partner.pollTimeout(), due <= now { partner.handleTimeout(now: now) }
            drain()
        }
        now = max(now, end)
    }

    /// Polls both cores dry: transmits go into the link's queues (bounded), events to
    /// `react`.
    private mutating func drain() {
        for _ in 0..<4 {
            var moved = false
            while let destination = victim.pollTransmit(now: now, into: &buffer) {
                moved = true
                sent?.append(buffer)
                if destination == FuzzIdentities.partnerAddress, toPartner.count < Self.queueLimit {
                    toPartner.append(buffer)
                }
            }
            while let destination = partner.pollTransmit(now: now, into: &buffer) {
                moved = true
                sent?.append(buffer)
                if destination == FuzzIdentities.victimAddress, toVictim.count < Self.queueLimit {
                    toVictim.append(buffer)
                }
            }
            while let event = victim.pollEvent() {
                moved = true
                react(&victim, event, now)
            }
            while let event = partner.pollEvent() {
                moved = true
                react(&partner, event, now)
            }
            if !moved { return }
        }
    }
}
