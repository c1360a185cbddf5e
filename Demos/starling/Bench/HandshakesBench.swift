import Foundation
import StarlingCore

/// `starling bench handshakes`: complete IK handshakes per second on one core, against
/// the libsodium work such a handshake cannot avoid.
///
/// Starling: two ``StarlingCore/SessionEndpoint``s in one thread, no I/O. Each iteration
/// the initiator connects (IK: it knows the responder's key), and the datagrams are
/// carried by hand until both are quiet: initiation → response → the initiator's
/// confirming empty packet → the responder's answering empty packet. Both ends must
/// report `.established`; then both close the session so the next iteration starts
/// afresh. The virtual clock moves 10 ms per iteration, below the `.local` per-source
/// handshake rate limit. One thread does both sides' work, so this is the rate of one
/// core serving as initiator and responder at once.
///
/// Baseline: ``NoiseCryptoFloor``, the same count of libsodium calls on the same sizes.
/// The ratio is Starling / floor (at most 1). Target: ≥ 5,000 handshakes/s.
enum HandshakesBench {
    static let minimumRate = 5_000.0

    static func run(seconds: Double) -> BenchResult {
        let rounds = 2
        let perRound = seconds / Double(rounds)
        var pair = HandshakePair()
        var floor = NoiseCryptoFloor()
        var starlingRates: [Double] = []
        var floorRates: [Double] = []
        for _ in 0..<rounds {
            floorRates.append(measureRate(seconds: perRound, batch: 1) { floor.handshake() })
            starlingRates.append(measureRate(seconds: perRound, batch: 1) { pair.handshake() })
        }
        floor.release()
        let starling = starlingRates.reduce(0, +) / Double(rounds)
        let baseline = floorRates.reduce(0, +) / Double(rounds)
        return BenchResult(
            name: "handshakes", starling: starling, baseline: baseline, unit: "handshakes/s",
            detail: "complete IK handshakes (\(pair.datagramsPerHandshake) datagrams, both sides in one thread) "
                + "vs the libsodium floor: " + NoiseCryptoFloor.operationsText + "; "
                + String(
                    format: "with each side on its own core, about %.0f handshakes/s per core (twice the one-thread "
                        + "rate, the two sides costing about the same); ", 2 * starling)
                + "rounds starling \(DatagramsBench.roundsText(starlingRates)) "
                + "floor \(DatagramsBench.roundsText(floorRates))",
            targets: [
                BenchTarget(text: "≥ \(Int(minimumRate)) handshakes/s per core", met: starling >= minimumRate)
            ])
    }
}

/// Two endpoints that shake hands in memory, over and over.
private struct HandshakePair {
    let initiatorID: PeerID
    let responderID: PeerID
    var initiator: SessionEndpoint
    var responder: SessionEndpoint
    let initiatorAddress = try! PeerAddress("127.0.0.1:40001")
    let responderAddress = try! PeerAddress("127.0.0.1:40002")
    var now = Instant(nanoseconds: 1_000_000_000)
    var buffer: [UInt8] = []
    /// Datagrams the last handshake took (4 for IK with its two confirming empty packets).
    var datagramsPerHandshake = 0

    init() {
        var random = SecureRandom()
        let first = IdentityKeyPair.generate(using: &random)
        let second = IdentityKeyPair.generate(using: &random)
        initiatorID = first.peerID
        responderID = second.peerID
        initiator = try! SessionEndpoint(identity: first, configuration: .local, random: SecureRandom())
        responder = try! SessionEndpoint(identity: second, configuration: .local, random: SecureRandom())
        buffer.reserveCapacity(2048)
    }

    /// One complete handshake, then both sides close it. Returns 1.
    mutating func handshake() -> Int {
        now = now + .milliseconds(10)
        initiator.connect(to: responderAddress, expecting: responderID, now: now)
        // Four datagrams carry an IK handshake; the bound only guards against a loop.
        var carried = 0
        for _ in 0..<16 {
            var moved = false
            while initiator.pollTransmit(now: now, into: &buffer) != nil {
                buffer.withUnsafeBytes { responder.handleDatagram($0, from: initiatorAddress, now: now) }
                moved = true
                carried += 1
            }
            while responder.pollTransmit(now: now, into: &buffer) != nil {
                buffer.withUnsafeBytes { initiator.handleDatagram($0, from: responderAddress, now: now) }
                moved = true
                carried += 1
            }
            if !moved { break }
        }
        var established = 0
        while let event = initiator.pollEvent() { if case .established = event { established += 1 } }
        while let event = responder.pollEvent() { if case .established = event { established += 1 } }
        datagramsPerHandshake = carried
        guard established == 2 else {
            fatalError("handshake incomplete: \(established) ends established after \(carried) datagrams")
        }
        initiator.close(responderID)
        responder.close(initiatorID)
        while initiator.pollEvent() != nil {}
        while responder.pollEvent() != nil {}
        return 1
    }
}
