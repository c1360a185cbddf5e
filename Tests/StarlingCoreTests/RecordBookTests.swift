import StarlingTestSupport
import Testing

@testable import StarlingCore

@Suite struct RecordBookTests {
    let now = PeerRecordTests.now

    func signed(_ sequence: UInt64, key: IdentityKeyPair = PeerRecordTests.owner) throws -> SignedPeerRecord {
        var record = PeerRecordTests.sample(sequence: sequence)
        record.peerID = key.peerID
        return try record.sign(with: key)
    }

    @Test func insert_higherSequenceReplaces_lowerOrEqualIsStale() throws {
        var book = RecordBook(capacity: 4)
        #expect(try book.insert(try signed(5), now: now) == .added)
        #expect(try book.insert(try signed(4), now: now) == .stale(heldSequence: 5))
        #expect(try book.insert(try signed(5), now: now) == .stale(heldSequence: 5))
        #expect(try book.insert(try signed(9), now: now) == .replaced(previousSequence: 5))
        #expect(book[PeerRecordTests.owner.peerID]?.record.sequence == 9)
        #expect(book.count == 1)
    }

    @Test func insert_invalidRecord_leavesBookUnchanged() throws {
        var book = RecordBook(capacity: 4)
        try book.insert(try signed(5), now: now)
        let forged = try signed(6)
        var badSignature = forged.signature
        badSignature[0] ^= 1
        let tampered = SignedPeerRecord(record: forged.record, body: forged.body, signature: badSignature)
        #expect(throws: RecordError.badSignature) { try book.insert(tampered, now: now) }
        #expect(book[PeerRecordTests.owner.peerID]?.record.sequence == 5)
    }

    @Test func insert_beyondCapacity_refusesNewPeers() throws {
        var book = RecordBook(capacity: 2)
        var random = TestRandom(seed: 21)
        let keys = (0..<3).map { _ in IdentityKeyPair.generate(using: &random) }
        #expect(try book.insert(try signed(1, key: keys[0]), now: now) == .added)
        #expect(try book.insert(try signed(1, key: keys[1]), now: now) == .added)
        #expect(try book.insert(try signed(1, key: keys[2]), now: now) == .full)
        #expect(try book.insert(try signed(2, key: keys[1]), now: now) == .replaced(previousSequence: 1))
        #expect(book.count == 2)
    }

    @Test func removeExpired_dropsOnlyExpired() throws {
        var book = RecordBook(capacity: 4)
        try book.insert(try signed(1), now: now)
        #expect(book.removeExpired(now: now + .seconds(3599)).isEmpty)
        #expect(book.removeExpired(now: now + .seconds(3600)) == [PeerRecordTests.owner.peerID])
        #expect(book.count == 0)
    }
}
