import StarlingCore

/// The `stream-pair` target: a well-behaved initiator and the victim responder on one
/// TCP-like byte stream, driven by a script, so that the victim's record, chunk and
/// message-reassembly code runs on authentic records (random bytes never pass the
/// handshake). The first byte picks an open or private swarm and whether the initiator
/// expects the victim's ID.
///
/// Each step is one opcode byte (low three bits) and its operands:
/// - `0`: the victim reads the next bytes the initiator sent, up to a count byte × 8 + 1.
/// - `1`: the initiator reads everything the victim sent.
/// - `2`: the initiator sends a message of (size byte × 256 + opcode) bytes.
/// - `3`: the victim sends a message of a size byte's bytes.
/// - `4`: one unread byte towards the victim changes: two position bytes, an XOR value.
/// - `5`: raw bytes join the stream towards the victim: a length byte, then the bytes.
/// - `6`: one side closes (the victim when bit 3 is set).
/// - `7`: the victim's stream ends (the connection drops).
enum StreamPair {
    /// Most bytes waiting in either direction; beyond it a side's output waits.
    static let pipeLimit = 1 << 20

    static func run(_ bytes: UnsafeRawBufferPointer) {
        var input = FuzzInput(bytes)
        let choice = input.byte() ?? 0
        var configuration = SessionConfiguration.lan
        configuration.swarmID = DecoderTargets.swarmID
        if choice & 0x01 != 0 { configuration.swarmSecret = DecoderTargets.swarmSecret }
        var random = FuzzRandom(seed: UInt64(choice))
        let expected = choice & 0x02 == 0 ? FuzzIdentities.victim.peerID : nil
        guard
            var initiator = try? StreamSession(
                role: .initiator(expecting: expected), identity: FuzzIdentities.partner,
                configuration: configuration, maximumMessageSize: 1 << 16, wallClock: DecoderTargets.wallClock,
                random: &random),
            var victim = try? StreamSession(
                role: .responder, identity: FuzzIdentities.victim, configuration: configuration,
                maximumMessageSize: 1 << 16, wallClock: DecoderTargets.wallClock, random: &random)
        else { return }
        var toVictim: [UInt8] = []
        var toInitiator: [UInt8] = []
        var steps = 0
        while let op = input.byte(), steps < 400 {
            steps += 1
            switch op & 0x07 {
            case 0:
                let count = min(toVictim.count, Int(input.byte() ?? 0) * 8 + 1)
                victim.handleBytes(Array(toVictim.prefix(count)))
                toVictim.removeFirst(count)
            case 1:
                initiator.handleBytes(toInitiator)
                toInitiator.removeAll()
            case 2:
                let size = Int(input.byte() ?? 0) * 256 + Int(op)
                try? initiator.send([UInt8](repeating: op, count: size))
            case 3:
                try? victim.send([UInt8](repeating: op, count: Int(input.byte() ?? 0)))
            case 4:
                let position = Int(input.byte() ?? 0) << 8 | Int(input.byte() ?? 0)
                let value = input.byte() ?? 0
                if !toVictim.isEmpty { toVictim[position % toVictim.count] ^= value == 0 ? 0x01 : value }
            case 5:
                toVictim += input.take(Int(input.byte() ?? 0))
            case 6:
                if op & 0x08 != 0 { victim.close() } else { initiator.close() }
            default:
                victim.handleEndOfStream()
            }
            pump(&initiator, into: &toVictim)
            pump(&victim, into: &toInitiator)
        }
        victim.handleBytes(toVictim)
        victim.handleEndOfStream()
        while victim.pollEvent() != nil {}
    }

    /// Takes what `session` has to send (up to ``pipeLimit`` waiting) and its events.
    private static func pump(_ session: inout StreamSession, into pipe: inout [UInt8]) {
        while pipe.count < pipeLimit, session.pollTransmit(appendingTo: &pipe) > 0 {}
        while session.pollEvent() != nil {}
    }
}
