import StarlingCore
import StarlingTestSupport
import Testing

/// Query routing filters: the tokenizer, the QRP matching rule, no false negatives, a
/// bounded false-positive rate, the wire form and fixed bit positions.
@Suite struct SuperPeerFilterTests {
    static func randomWord(using random: inout TestRandom) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<Int.random(in: 6...12, using: &random)).map { _ in letters.randomElement(using: &random)! })
    }

    @Test func keywords_splitOnNonAlphanumerics_lowercaseAndDeduplicate() {
        #expect(
            QueryRoutingFilter.keywords(of: Array("Chat.v1  MUSIC/chat, Grüße!".utf8)) == [
                "chat", "v1", "music", "grüße",
            ])
        #expect(QueryRoutingFilter.keywords(of: [UInt8]()).isEmpty)
        #expect(QueryRoutingFilter.keywords(of: Array(" .,;-_ ".utf8)).isEmpty)
        // Invalid UTF-8 (a binary payload) has no keywords.
        #expect(QueryRoutingFilter.keywords(ofQuery: [0xFF, 0xFE, 0x41]).isEmpty)
        let many = (0..<100).map { "w\($0)" }.joined(separator: " ")
        #expect(QueryRoutingFilter.keywords(of: Array(many.utf8)).count == SuperPeerConstants.maximumQueryKeywords)
        // Inserting has no such limit: the 100th word of one text is in the filter.
        var filter = QueryRoutingFilter()
        filter.insert(many)
        #expect(filter.mightContain("w99"))
    }

    @Test func filter_mightMatch_requiresEveryKeyword_andNothingMatchesEmpty() {
        var filter = QueryRoutingFilter()
        #expect(!filter.mightMatch(queryKeywords: ["chat"]))
        filter.insert("chat.v1 music")
        #expect(filter.mightMatch(queryKeywords: ["chat"]))
        #expect(filter.mightMatch(queryKeywords: ["music", "v1", "chat"]))
        #expect(filter.mightMatch(queryKeywords: QueryRoutingFilter.keywords(ofQuery: Array("Chat-V1".utf8))))
        #expect(!filter.mightMatch(queryKeywords: ["chat", "video"]))
        #expect(!filter.mightMatch(queryKeywords: []))
        #expect(QueryRoutingFilter().isEmpty && !filter.isEmpty)
    }

    @Test func filter_insertedWords_neverFalseNegative_falsePositivesBelowBound() {
        var random = TestRandom(seed: 21)
        var filter = QueryRoutingFilter(log2Bits: 11, hashCount: 4)
        let inserted = (0..<100).map { _ in Self.randomWord(using: &random) }
        for word in inserted { filter.insert(word) }
        for word in inserted { #expect(filter.mightContain(word)) }
        let others = (0..<1_000).map { _ in Self.randomWord(using: &random) }.filter { !inserted.contains($0) }
        let positives = others.count { filter.mightContain($0) }
        // (1 − e^(−4·100/2048))^4 ≈ 0.0012; allow three times the expectation plus four
        // (a binomial tail far beyond 3σ for 1,000 draws).
        let expected = filter.expectedFalsePositiveRate(keywords: 100)
        #expect(expected > 0.0005 && expected < 0.002)
        #expect(Double(positives) <= 3 * expected * Double(others.count) + 4)
    }

    @Test func filter_encodeDecode_roundTrips_andHasDocumentedLayout() throws {
        var filter = QueryRoutingFilter(log2Bits: 8, hashCount: 2)
        filter.insert("alpha beta")
        var writer = ByteWriter()
        filter.encode(into: &writer)
        #expect(writer.bytes.count == filter.encodedSize && writer.bytes.count == 2 + 32)
        #expect(Array(writer.bytes[0..<2]) == [8, 2])
        var reader = ByteReader(writer.bytes)
        #expect(try QueryRoutingFilter.decode(from: &reader) == filter)
        #expect(reader.isAtEnd)
        #expect(filter.setBitCount <= 4 && filter.setBitCount >= 1)
    }

    @Test func filter_bitPositions_areFixedAcrossProcesses() {
        // The bits of "chat" in a 2,048-bit, 4-hash table: protocol, pinned here so that a
        // change of hash is caught (it would break every peer that did not change too).
        var filter = QueryRoutingFilter(log2Bits: 11, hashCount: 4)
        filter.insert("chat")
        var writer = ByteWriter()
        filter.encode(into: &writer)
        var set: [Int] = []
        for (index, byte) in writer.bytes.dropFirst(2).enumerated() {
            for bit in 0..<8 where (byte >> UInt8(bit)) & 1 == 1 { set.append(index * 8 + bit) }
        }
        #expect(set == Self.chatBits, "\(set)")
    }

    static let chatBits = [135, 688, 1241, 1794]

    @Test func filter_union_matchesWhatEitherMatches_andRefusesOtherShapes() {
        var a = QueryRoutingFilter()
        a.insert("alpha")
        var b = QueryRoutingFilter()
        b.insert("beta")
        let union = a.union(b)
        #expect(union?.mightMatch(queryKeywords: ["alpha"]) == true)
        #expect(union?.mightMatch(queryKeywords: ["beta"]) == true)
        #expect(union?.mightMatch(queryKeywords: ["gamma"]) == false)
        #expect(a.union(QueryRoutingFilter(log2Bits: 10)) == nil)
        #expect(a.union(QueryRoutingFilter(log2Bits: 11, hashCount: 3)) == nil)
    }
}
