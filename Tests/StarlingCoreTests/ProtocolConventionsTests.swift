import Foundation
import Testing

@testable import StarlingCore

/// Checks the prose of docs/PROTOCOL.md's "Conventions" and "Peer record" against the
/// code: the peer ID text form and the validity window of the example record.
@Suite struct ProtocolConventionsTests {
    static let document = try! String(contentsOfFile: ProtocolDocTests.documentPath, encoding: .utf8)

    /// The indented line after "Peer ID text form" ends with the example key's text form.
    @Test func peerIDTextExample_isTheExampleKeysID() throws {
        let section = try #require(Self.document.range(of: "**Peer ID text form:**"))
        let after = Self.document[section.upperBound...]
        let line = try #require(
            after.split(separator: "\n").first { $0.hasPrefix("      ") && !$0.contains(" ", after: 6) })
        let text = line.trimmingCharacters(in: .whitespaces)
        #expect(text == ProtocolDocTests.exampleKey.peerID.description)
        #expect(text.count == 52)
        #expect(try PeerID(text) == ProtocolDocTests.exampleKey.peerID)
    }

    /// The alphabet the document names is the one the code encodes with, value by value.
    @Test func peerIDTextAlphabet_matchesBase32() {
        #expect(Self.document.contains("`abcdefghijklmnopqrstuvwxyz234567`"))
        let values = (0..<32).map { UInt8($0) }
        // 32 five-bit values packed into 20 bytes encode to the alphabet in order.
        var bits: [UInt8] = []
        for value in values { bits += (0..<5).map { value >> (4 - $0) & 1 } }
        let bytes = stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | $1 }
        }
        #expect(Base32.encode(bytes) == "abcdefghijklmnopqrstuvwxyz234567")
        #expect(throws: PeerID.ParseError.self) {
            try PeerID(ProtocolDocTests.exampleKey.peerID.description.uppercased())
        }
    }

    /// The example record is valid exactly from 30 days before its expiry to just
    /// before it, as the text says; a receiver outside that window refuses it.
    @Test func exampleRecord_validOnlyInTheWindowTheTextGives() throws {
        #expect(Self.document.contains("1797411600 (2026-12-16 09:00 UTC"))
        #expect(Self.document.contains("1800003599 (2027-01-15 08:59:59 UTC)"))
        let signed = try ProtocolDocTests.exampleRecord.sign(with: ProtocolDocTests.exampleKey)
        #expect(throws: Never.self) { try signed.verify(now: UnixTime(seconds: 1_797_411_600)) }
        #expect(throws: Never.self) { try signed.verify(now: UnixTime(seconds: 1_800_003_599)) }
        #expect(throws: RecordError.self) { try signed.verify(now: UnixTime(seconds: 1_797_411_599)) }
        #expect(throws: RecordError.self) { try signed.verify(now: UnixTime(seconds: 1_800_003_600)) }
    }

    /// Every domain label in a formula is followed by its 0x00 separator.
    @Test func domainLabels_areFollowedBySeparator() {
        let unseparated = Self.document.split(separator: "\n").filter { $0.contains("/v1\" 0x00") }
        #expect(unseparated.isEmpty, "\(unseparated)")
    }
}

extension Substring {
    /// Whether a character of `character` occurs at or after offset `start`.
    fileprivate func contains(_ character: Character, after start: Int) -> Bool {
        dropFirst(start).contains(character)
    }
}
