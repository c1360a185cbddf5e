import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Acks carry the responder's network coordinate, and a direct ack from the probe's
/// target, from its member address, is a round-trip sample for the owner.
@Suite struct MembershipRoundTripTests {
    static let coordinate = NetworkCoordinate(
        vector: [0.015625, 0, 0, 0, 0, 0, 0, 0], height: 0.0009765625, error: 0.25, adjustment: 0)

    /// Fires `core`'s timers until it pings someone; returns the ping's sequence, target
    /// and when it was sent.
    static func nextPing(of core: inout MembershipCore, from start: Instant) throws -> (UInt32, PeerID, Instant)? {
        var now = start
        for _ in 0..<50 {
            guard let due = core.pollTimeout() else { return nil }
            now = max(now, due)
            core.handleTimeout(now: now)
            while let (_, bytes) = core.pollTransmit() {
                if case .ping(let sequence, let target, _, _, _) = try MembershipMessage.decode(bytes[...]) {
                    while core.pollTransmit() != nil {}
                    return (sequence, target, now)
                }
            }
        }
        return nil
    }

    static func index(of peer: PeerID) -> Int {
        (1...3).first { MembershipCoreTests.id($0) == peer }!
    }

    @Test func directAck_fromTheTargetsAddress_isASample_withItsCoordinate() throws {
        var core = try MembershipCoreTests.joinedWithPartialAnswer(seed: 3)
        #expect(core.localCoordinate == .origin)
        let ping = try #require(try Self.nextPing(of: &core, from: .zero))
        let (sequence, target, sentAt) = ping
        let ack = try MembershipMessage.ack(
            sequence: sequence, sender: target, digest: 0, coordinate: Self.coordinate, updates: []
        ).encoded()
        core.handleMessage(
            ack[...], from: MembershipCoreTests.address(Self.index(of: target)), now: sentAt + .milliseconds(12))
        #expect(
            core.takeRoundTrips() == [
                ProbeRoundTrip(member: target, rtt: .milliseconds(12), coordinate: Self.coordinate)
            ])
        #expect(core.takeRoundTrips().isEmpty)
    }

    @Test func ackFromAnotherAddress_orRelayed_isNoSample() throws {
        var core = try MembershipCoreTests.joinedWithPartialAnswer(seed: 3)
        let ping = try #require(try Self.nextPing(of: &core, from: .zero))
        let (sequence, target, sentAt) = ping
        // The target's ID, but not from its member address.
        let forged = try MembershipMessage.ack(
            sequence: sequence, sender: target, digest: 0, coordinate: Self.coordinate, updates: []
        ).encoded()
        core.handleMessage(forged[...], from: MembershipCoreTests.address(9), now: sentAt + .milliseconds(1))
        #expect(core.takeRoundTrips().isEmpty)
        // A relay's ack (its own ID) after ping requests measures the relay's path, not the target.
        let next = try #require(try Self.nextPing(of: &core, from: sentAt + .milliseconds(1)))
        let relay = (1...3).map(MembershipCoreTests.id).first { $0 != next.1 }!
        let relayed = try MembershipMessage.ack(
            sequence: next.0, sender: relay, digest: 0, coordinate: Self.coordinate, updates: []
        ).encoded()
        core.handleMessage(
            relayed[...], from: MembershipCoreTests.address(Self.index(of: relay)), now: next.2 + .milliseconds(5))
        #expect(core.takeRoundTrips().isEmpty)
    }

    @Test func acksCarryTheCoordinateTheOwnerSets() throws {
        var core = try MembershipCore(
            identity: MembershipCoreTests.identity(5), address: MembershipCoreTests.address(5),
            random: TestRandom(seed: 1))
        core.localCoordinate = Self.coordinate
        let ping = try MembershipMessage.ping(
            sequence: 4, target: MembershipCoreTests.id(5), sender: MembershipCoreTests.id(0), digest: 0, updates: []
        ).encoded()
        core.handleMessage(ping[...], from: MembershipCoreTests.address(0), now: .zero)
        let transmitted = core.pollTransmit()
        let sent = try #require(transmitted)
        guard case .ack(_, _, _, let coordinate, _) = try MembershipMessage.decode(sent.bytes) else {
            Issue.record("expected an ack")
            return
        }
        #expect(coordinate == Self.coordinate)
    }
}
