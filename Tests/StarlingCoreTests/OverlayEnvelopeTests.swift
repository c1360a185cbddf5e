import StarlingCore
import StarlingTestSupport
import Testing

/// Overlay datagrams: open and sealed forms, and every way a receiver refuses one.
@Suite struct OverlayEnvelopeTests {
    static let swarmID = [UInt8](repeating: 0x11, count: 32)
    static let secret = [UInt8](repeating: 0x22, count: 32)
    static let now = UnixTime(seconds: 1_800_000_000)
    static let message: [UInt8] = Array("a membership message".utf8)

    static func encode(_ envelope: OverlayEnvelope, at time: UnixTime = now) -> [UInt8] {
        var buffer: [UInt8] = []
        var random = TestRandom(seed: 5)
        envelope.encode(.routing, message, sentAt: time, into: &buffer, using: &random)
        return buffer
    }

    static func decode(_ envelope: OverlayEnvelope, _ bytes: [UInt8]) -> Result<[UInt8], OverlayDrop> {
        bytes.withUnsafeBytes { raw in
            do throws(OverlayDrop) {
                let opened = try envelope.decode(raw, now: now)
                guard opened.protocolKind == .routing else { return .failure(.unknownProtocol) }
                return .success(Array(opened.message))
            } catch {
                return .failure(error)
            }
        }
    }

    @Test(arguments: [false, true]) func roundTrips(sealed: Bool) {
        let envelope = OverlayEnvelope(swarmID: Self.swarmID, swarmSecret: sealed ? Self.secret : nil)
        let bytes = Self.encode(envelope)
        #expect(bytes.count == Self.message.count + envelope.overhead)
        #expect(Self.decode(envelope, bytes) == .success(Self.message))
        // Sealed datagrams hide the message; open ones carry it in the clear.
        #expect(bytes.suffix(Self.message.count).elementsEqual(Self.message) == !sealed)
    }

    @Test func refusesOtherSwarmsKeysAndModes() {
        let open = OverlayEnvelope(swarmID: Self.swarmID, swarmSecret: nil)
        let otherOpen = OverlayEnvelope(swarmID: [UInt8](repeating: 0x12, count: 32), swarmSecret: nil)
        let sealed = OverlayEnvelope(swarmID: Self.swarmID, swarmSecret: Self.secret)
        let otherKey = OverlayEnvelope(swarmID: Self.swarmID, swarmSecret: [UInt8](repeating: 0x23, count: 32))
        let otherID = OverlayEnvelope(swarmID: [UInt8](repeating: 0x12, count: 32), swarmSecret: Self.secret)
        #expect(Self.decode(otherOpen, Self.encode(open)) == .failure(.wrongSwarm))
        #expect(Self.decode(sealed, Self.encode(open)) == .failure(.wrongMode))
        #expect(Self.decode(open, Self.encode(sealed)) == .failure(.wrongMode))
        #expect(Self.decode(otherKey, Self.encode(sealed)) == .failure(.unauthentic))
        #expect(Self.decode(otherID, Self.encode(sealed)) == .failure(.unauthentic))
    }

    @Test func refusesSealedDatagramsOutsideTheReplayWindow() {
        let sealed = OverlayEnvelope(swarmID: Self.swarmID, swarmSecret: Self.secret)
        #expect(Self.decode(sealed, Self.encode(sealed, at: Self.now + .seconds(60))) == .success(Self.message))
        #expect(
            Self.decode(sealed, Self.encode(sealed, at: UnixTime(seconds: Self.now.seconds - 60)))
                == .success(Self.message))
        #expect(Self.decode(sealed, Self.encode(sealed, at: Self.now + .seconds(61))) == .failure(.stale))
        #expect(
            Self.decode(sealed, Self.encode(sealed, at: UnixTime(seconds: Self.now.seconds - 61))) == .failure(.stale))
    }

    @Test func everySingleBitFlipOfASealedDatagramIsRefused() {
        let sealed = OverlayEnvelope(swarmID: Self.swarmID, swarmSecret: Self.secret)
        let bytes = Self.encode(sealed)
        for index in bytes.indices {
            for bit in 0..<8 {
                var flipped = bytes
                flipped[index] ^= 1 << bit
                guard case .failure = Self.decode(sealed, flipped) else {
                    Issue.record("a flip of bit \(bit) of byte \(index) was accepted")
                    return
                }
            }
        }
    }

    @Test func truncatedUnknownAndRandomInputIsRefusedWithoutTrapping() {
        let open = OverlayEnvelope(swarmID: Self.swarmID, swarmSecret: nil)
        let sealed = OverlayEnvelope(swarmID: Self.swarmID, swarmSecret: Self.secret)
        let bytes = Self.encode(open)
        for length in 0...(OverlayConstants.prefixSize + OverlayConstants.swarmTagSize) {
            #expect(Self.decode(open, Array(bytes.prefix(length))) == .failure(.malformed))
        }
        var unknown = bytes
        unknown[OverlayConstants.prefixSize + OverlayConstants.swarmTagSize] = 0x7F
        #expect(Self.decode(open, unknown) == .failure(.unknownProtocol))
        var badMode = bytes
        badMode[2] = 0x05
        #expect(Self.decode(open, badMode) == .failure(.malformed))
        #expect(
            Self.decode(open, [UInt8](repeating: 0, count: OverlayConstants.maximumDatagramSize + 1))
                == .failure(.malformed))
        var random = TestRandom(seed: 9)
        for _ in 0..<2_000 {
            let length = Int.random(in: 0..<1_600, using: &random)
            var noise = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if noise.count > 2 { (noise[0], noise[1]) = (1, MessageType.overlay.rawValue) }
            _ = Self.decode(open, noise)
            _ = Self.decode(sealed, noise)
        }
    }
}
