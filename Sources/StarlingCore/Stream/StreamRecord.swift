/// The plaintext inside each encrypted chunk of an established stream: a type byte,
/// then the record's body.
///
/// ```
/// 0      1
/// | type | body ...
/// ```
///
/// A message of any size up to the receiver's maximum travels as one ``messageStart``
/// record (which states the whole message's length) followed by as many
/// ``messageContinuation`` records as its remaining bytes need.
///
/// ONLY APPEND — values are protocol.
public enum StreamRecordType: UInt8, Sendable, CaseIterable {
    /// The responder's first record, with an empty body: it proves to the initiator that
    /// the responder accepted handshake message 3 (and so holds the swarm secret).
    case confirm = 0x01
    /// The first record of a message: the message length (u32), then its first bytes.
    case messageStart = 0x02
    /// More bytes of the message being received (at least one).
    case messageContinuation = 0x03
    /// The sender will send nothing more; the body is empty. The receiver answers with
    /// its own close record, after any messages it still has queued.
    case close = 0x04
}

/// Why a side abandoned a handshake: the one byte of an abort frame.
///
/// An abort frame is a cleartext one-byte frame body, sent only before the handshake
/// completes. It is not authenticated: it only chooses which error the receiver
/// reports, and ends a stream that an attacker on the path could end anyway.
///
/// ONLY APPEND — values are protocol.
public enum StreamAbortReason: UInt8, Sendable, CaseIterable {
    /// A handshake message did not authenticate, or the handshake kinds differ: the
    /// sides have different swarm IDs or swarm secrets (or the stream was altered).
    case wrongSwarm = 0x01
    /// Any other refusal: a malformed handshake message, an identity that does not
    /// match its key, or a peer that is not the one expected.
    case handshakeFailed = 0x02

    /// The error the receiver of this reason reports.
    var error: StreamError {
        switch self {
        case .wrongSwarm: .wrongSwarm
        case .handshakeFailed: .handshakeFailed
        }
    }
}

/// Encoding of the stream's frames and records: pure functions, paired `make`/`consume`.
enum StreamWire {
    /// Appends a frame: the body's length as a big-endian u32, then the body.
    static func appendFrame(_ body: some Collection<UInt8>, to output: inout [UInt8]) {
        appendLength(body.count, to: &output)
        output.append(contentsOf: body)
    }

    /// Appends `length` as a big-endian u32; `length` fits 32 bits.
    static func appendLength(_ length: Int, to output: inout [UInt8]) {
        let value = UInt32(truncatingIfNeeded: length)
        output.append(UInt8(truncatingIfNeeded: value >> 24))
        output.append(UInt8(truncatingIfNeeded: value >> 16))
        output.append(UInt8(truncatingIfNeeded: value >> 8))
        output.append(UInt8(truncatingIfNeeded: value))
    }

    /// Writes `value` as a big-endian u32 at `offset` of `buffer`.
    static func storeLength(_ value: Int, at offset: Int, in buffer: UnsafeMutableRawBufferPointer) {
        let value = UInt32(truncatingIfNeeded: value)
        buffer[offset] = UInt8(truncatingIfNeeded: value >> 24)
        buffer[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        buffer[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
        buffer[offset + 3] = UInt8(truncatingIfNeeded: value)
    }

    /// Reads a big-endian u32 at `offset` of `bytes`, which holds at least four bytes there.
    static func loadLength(at offset: Int, in bytes: UnsafeRawBufferPointer) -> Int {
        Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
    }

    /// The initiator's first frame body: the handshake kind, then Noise message 1.
    static func makeInitiation(kind: HandshakeKind, noiseMessage: [UInt8]) -> [UInt8] {
        [kind.rawValue] + noiseMessage
    }

    /// Splits the initiator's first frame body into its kind and Noise message 1.
    /// - Returns: nil for an empty body or a kind byte that names no handshake.
    static func consumeInitiation(_ body: [UInt8]) -> (kind: HandshakeKind, noiseMessage: [UInt8])? {
        guard let first = body.first, let kind = HandshakeKind(rawValue: first) else { return nil }
        return (kind, Array(body.dropFirst()))
    }

    /// The plaintext of a message-start record for a message of `length` bytes whose
    /// first bytes are `data`.
    static func makeMessageStart(length: Int, data: some Collection<UInt8>) -> [UInt8] {
        var record = [StreamRecordType.messageStart.rawValue]
        appendLength(length, to: &record)
        record.append(contentsOf: data)
        return record
    }
}
