/// The kind byte of an ``AddressCheckMessage``.
///
/// ONLY APPEND — values are protocol.
public enum AddressCheckKind: UInt8, Sendable, CaseIterable {
    /// "Echo this nonce back to the address it came from."
    case challenge = 0x01
    /// The nonce of a challenge, echoed.
    case response = 0x02
}

/// The 16 random bytes of an address check, as two big-endian halves.
public struct AddressCheckNonce: Hashable, Sendable {
    /// The first eight bytes.
    public var high: UInt64
    /// The last eight bytes.
    public var low: UInt64

    /// Creates a nonce from its halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A fresh random nonce.
    static func random(using generator: inout some RandomNumberGenerator) -> AddressCheckNonce {
        AddressCheckNonce(high: generator.next(), low: generator.next())
    }
}

/// An address check, protocol `0x04` of an overlay datagram: proof that a source
/// address receives what is sent to it.
///
/// A peer that would answer an address beyond what that address sent it sends a
/// challenge with a random nonce; an answer from the address with the same nonce
/// proves that whoever uses the address reads what is sent to it, so answers to it
/// are no longer capped. A response is exactly as large as its challenge, so checks
/// themselves amplify nothing.
///
/// Wire form: `kind u8 ‖ nonce [16]`, 17 bytes, nothing after.
public enum AddressCheckMessage: Equatable, Sendable {
    /// Asks the receiver to echo `nonce`.
    case challenge(AddressCheckNonce)
    /// Echoes the nonce of a challenge.
    case response(AddressCheckNonce)

    /// The message's kind.
    public var kind: AddressCheckKind {
        switch self {
        case .challenge: .challenge
        case .response: .response
        }
    }

    /// The nonce it carries.
    public var nonce: AddressCheckNonce {
        switch self {
        case .challenge(let nonce), .response(let nonce): nonce
        }
    }

    /// Replaces `buffer`'s contents (keeping its capacity) with the message.
    public func encode(into buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(kind.rawValue)
        Self.append(nonce.high, to: &buffer)
        Self.append(nonce.low, to: &buffer)
    }

    private static func append(_ value: UInt64, to buffer: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// Decodes a whole address check message.
    /// - Throws: ``OverlayDrop/malformed`` for a wrong size or an unknown kind.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(OverlayDrop) -> AddressCheckMessage {
        guard bytes.count == OverlayConstants.addressCheckMessageSize,
            let kind = AddressCheckKind(rawValue: bytes[bytes.startIndex])
        else { throw .malformed }
        var halves: (UInt64, UInt64) = (0, 0)
        var index = bytes.startIndex + 1
        for slot in 0..<2 {
            var value: UInt64 = 0
            for _ in 0..<8 {
                value = value << 8 | UInt64(bytes[index])
                index += 1
            }
            if slot == 0 { halves.0 = value } else { halves.1 = value }
        }
        let nonce = AddressCheckNonce(high: halves.0, low: halves.1)
        return switch kind {
        case .challenge: .challenge(nonce)
        case .response: .response(nonce)
        }
    }
}
