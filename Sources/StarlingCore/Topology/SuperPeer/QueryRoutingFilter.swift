internal import Glibc

/// A leaf's compact summary of what it could answer: a Bloom-style bit table of
/// keywords, after Gnutella's query routing tables (QRP).
///
/// ### Purpose
/// A super-peer holds one filter per leaf and forwards a query to a leaf only if the
/// leaf's filter holds every keyword of the query (``mightMatch(queryKeywords:)``, the
/// QRP rule). A filter never says "no" to a keyword that was inserted (no false
/// negatives); it may say "maybe" to one that was not, with the probability
/// ``expectedFalsePositiveRate(keywords:)`` per keyword.
///
/// ### Keywords
/// Text goes through one tokenizer (``keywords(of:)``) both when a leaf inserts it and
/// when a query is matched: UTF-8, split on every character that is not a letter or a
/// number, lowercased; invalid UTF-8 has no keywords. A leaf inserts its peer ID's text
/// form, its service names (so `chat.v1` inserts `chat` and `v1`) and the keywords its
/// application declares. A filter with nothing inserted matches nothing, and a query
/// with no keywords matches no leaf.
///
/// ### Hashing (protocol: every process must set the same bits)
/// A keyword's UTF-8 bytes are hashed with 64-bit FNV-1a from
/// ``SuperPeerConstants/filterHashSeed``, then mixed with SplitMix64's finalizer into
/// `h1`; `h2 = mix(h1 ^ 0x9E3779B97F4A7C15) | 1`. Bit `i` of `k` is
/// `(h1 + i × h2) mod 2^log2Bits` (Kirsch–Mitzenmacher double hashing). Bit `b` lives
/// in byte `b / 8` of the table, as its bit `b mod 8` counted from the least
/// significant.
///
/// ### Wire format
/// ```
/// log2Bits u8 | hashCount u8 | 2^log2Bits / 8 bytes of table
/// ```
/// `log2Bits` is 8…12 (32 to 512 table bytes), `hashCount` 1…8.
public struct QueryRoutingFilter: Hashable, Sendable {
    /// The table has `2^log2Bits` bits.
    public let log2Bits: Int
    /// Bits each keyword sets.
    public let hashCount: Int
    /// The table, 64 bits a word, bit `b` in word `b / 64` at position `b mod 64`.
    var words: [UInt64]

    /// An empty filter of `2^log2Bits` bits, each keyword setting `hashCount` of them.
    /// Both are clamped to the allowed ranges.
    public init(log2Bits: Int = 11, hashCount: Int = 4) {
        self.log2Bits = min(
            max(log2Bits, SuperPeerConstants.minimumFilterLog2Bits), SuperPeerConstants.maximumFilterLog2Bits)
        self.hashCount = min(max(hashCount, 1), SuperPeerConstants.maximumFilterHashes)
        words = [UInt64](repeating: 0, count: (1 << self.log2Bits) / 64)
    }

    /// Bits in the table.
    public var bitCount: Int { 1 << log2Bits }

    /// Bits set.
    public var setBitCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Whether nothing was inserted.
    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// Bytes of the encoded filter.
    public var encodedSize: Int { 2 + bitCount / 8 }

    /// Inserts every keyword of `text`, split as ``keywords(of:)`` splits (with no limit
    /// on their number).
    public mutating func insert(_ text: String) {
        for keyword in Self.tokens(of: Array(text.utf8), limit: .max) { insertKeyword(keyword) }
    }

    /// Inserts every keyword of every text.
    public mutating func insert(contentsOf texts: some Sequence<String>) {
        for text in texts { insert(text) }
    }

    /// Whether the filter may hold every keyword of a query: `false` for sure when one
    /// is missing, or when there are no keywords.
    /// - Parameter queryKeywords: keywords as ``keywords(of:)`` returns them.
    public func mightMatch(queryKeywords: [String]) -> Bool {
        guard !queryKeywords.isEmpty else { return false }
        return queryKeywords.allSatisfy(mightContain)
    }

    /// Whether `keyword` (one token, already lowercased) may have been inserted.
    public func mightContain(_ keyword: String) -> Bool {
        var contained = true
        Self.forEachBit(of: keyword, log2Bits: log2Bits, hashCount: hashCount) { bit in
            if words[bit >> 6] & (1 << UInt64(bit & 63)) == 0 { contained = false }
        }
        return contained
    }

    /// The union of two filters of the same shape: it might match whatever either
    /// might, as a super-peer's summary of its leaves does.
    /// - Returns: `nil` when the shapes differ.
    public func union(_ other: QueryRoutingFilter) -> QueryRoutingFilter? {
        guard other.log2Bits == log2Bits, other.hashCount == hashCount else { return nil }
        var merged = self
        for index in merged.words.indices { merged.words[index] |= other.words[index] }
        return merged
    }

    /// The chance that a keyword never inserted is reported present, once `keywords`
    /// distinct keywords are in: `(1 − e^(−k·n/m))^k`.
    public func expectedFalsePositiveRate(keywords: Int) -> Double {
        let k = Double(hashCount)
        let exponent = -k * Double(keywords) / Double(bitCount)
        return pow(1 - exp(exponent), k)
    }

    // MARK: Keywords

    /// The keywords of a query payload or of a text: UTF-8 split on every character that
    /// is not a letter or a number (Unicode general categories L and N), each lowercased
    /// (Unicode default case mapping), duplicates dropped, in order, at most
    /// ``SuperPeerConstants/maximumQueryKeywords``. Invalid UTF-8 (a binary payload) has
    /// none.
    public static func keywords(of bytes: some Collection<UInt8>) -> [String] {
        tokens(of: bytes, limit: SuperPeerConstants.maximumQueryKeywords)
    }

    /// The first `limit` distinct keywords of `bytes`, as ``keywords(of:)`` splits them.
    static func tokens(of bytes: some Collection<UInt8>, limit: Int) -> [String] {
        guard let text = String(validating: bytes, as: UTF8.self) else { return [] }
        var keywords: [String] = []
        var seen = Set<String>()
        var current = ""
        for character in text {
            if character.isLetter || character.isNumber {
                current += character.lowercased()
                continue
            }
            if !current.isEmpty, seen.insert(current).inserted {
                keywords.append(current)
                if keywords.count >= limit { return keywords }
            }
            current = ""
        }
        if !current.isEmpty, keywords.count < limit, seen.insert(current).inserted { keywords.append(current) }
        return keywords
    }

    /// The keywords of a query payload; see ``keywords(of:)``.
    public static func keywords(ofQuery payload: some Collection<UInt8>) -> [String] { keywords(of: payload) }

    // MARK: Wire

    /// Appends the filter's bytes.
    public func encode(into writer: inout ByteWriter) {
        writer.write(UInt8(log2Bits))
        writer.write(UInt8(hashCount))
        for word in words {
            for shift in stride(from: 0, to: 64, by: 8) {
                writer.write(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
    }

    /// Reads a filter at the reader's position.
    /// - Throws: ``WireError``: a size or hash count out of range, or truncation.
    public static func decode(from reader: inout ByteReader) throws(WireError) -> QueryRoutingFilter {
        let sizeOffset = reader.offset
        let log2Bits = Int(try reader.readUInt8())
        guard
            (SuperPeerConstants.minimumFilterLog2Bits...SuperPeerConstants.maximumFilterLog2Bits).contains(log2Bits)
        else { throw .invalidValue(offset: sizeOffset, field: "filter size") }
        let hashOffset = reader.offset
        let hashCount = Int(try reader.readUInt8())
        guard (1...SuperPeerConstants.maximumFilterHashes).contains(hashCount) else {
            throw .invalidValue(offset: hashOffset, field: "filter hash count")
        }
        var filter = QueryRoutingFilter(log2Bits: log2Bits, hashCount: hashCount)
        let table = try reader.readBytes((1 << log2Bits) / 8)
        var index = table.startIndex
        for word in filter.words.indices {
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 64, by: 8) {
                value |= UInt64(table[index]) << UInt64(shift)
                index += 1
            }
            filter.words[word] = value
        }
        return filter
    }

    // MARK: Hashing

    mutating func insertKeyword(_ keyword: String) {
        Self.forEachBit(of: keyword, log2Bits: log2Bits, hashCount: hashCount) { bit in
            words[bit >> 6] |= 1 << UInt64(bit & 63)
        }
    }

    /// Calls `body` with each of the `hashCount` bit positions of `keyword`.
    static func forEachBit(of keyword: String, log2Bits: Int, hashCount: Int, _ body: (Int) -> Void) {
        let (h1, h2) = hashes(of: keyword)
        let mask = UInt64(1 << log2Bits) - 1
        for index in 0..<UInt64(hashCount) { body(Int((h1 &+ index &* h2) & mask)) }
    }

    /// The two 64-bit hashes of a keyword (see the type's documentation).
    static func hashes(of keyword: String) -> (UInt64, UInt64) {
        var hash = SuperPeerConstants.filterHashSeed
        for byte in keyword.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        let h1 = mix(hash)
        return (h1, mix(h1 ^ 0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// SplitMix64's finalizer.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
