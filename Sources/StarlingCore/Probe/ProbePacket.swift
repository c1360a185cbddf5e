/// What a multicast lab packet carries.
///
/// ONLY APPEND — values are protocol.
public enum ProbePacketKind: UInt8, Sendable, CaseIterable {
    /// A sequenced, timestamped probe from `starling mcast probe`; its body is the run
    /// length, then zero padding.
    case probe = 1
    /// A text message from `starling mcast send`; its body is the UTF-8 text.
    case message = 2
}

/// One packet of the multicast lab (`starling mcast send` and `probe`), with its codec.
///
/// Every field is big-endian:
///
/// ```
///  0       4    5    6       8              16             24             32
///  +-------+----+----+-------+--------------+--------------+--------------+----------
///  | magic |ver |kind| 0 0   |  sender id   |   sequence   |  send time   |  body …
///  | SMLP  | 1  |    |       |              |              |  ns, signed  |
///  +-------+----+----+-------+--------------+--------------+--------------+----------
/// ```
///
/// - **magic**: ASCII `SMLP` (``ProbeConstants/magic``).
/// - **ver**: ``ProbeConstants/version``.
/// - **kind**: a ``ProbePacketKind``.
/// - **sender id**: chosen at random by each run of a sender, so a receiver tells runs apart.
/// - **sequence**: 0 for the run's first packet, then one more for each.
/// - **send time**: nanoseconds since the Unix epoch on the sender's `CLOCK_REALTIME`,
///   taken just before the send. A receiver on another machine measures one-way
///   latency only as well as the two clocks agree.
/// - **body** of a probe: the run length (8 bytes, how many probes the run sends; 0 when
///   open-ended), then zeros up to the size the sender chose. Of a message: UTF-8 text.
///
/// Encoding and decoding are pure; the clock is read by the caller.
public struct ProbePacket: Sendable, Equatable {
    /// What the packet carries.
    public var kind: ProbePacketKind
    /// The sending run's random identifier.
    public var senderID: UInt64
    /// The packet's position in its run, from 0.
    public var sequence: UInt64
    /// When it was sent: nanoseconds since the Unix epoch (`CLOCK_REALTIME`).
    public var sentAtNanoseconds: Int64
    /// For a probe, how many probes the run sends (0: open-ended); 0 for a message.
    public var runLength: UInt64
    /// For a message, its text as UTF-8; empty for a probe (its padding is not kept).
    public var text: [UInt8]

    /// Makes a probe.
    ///
    /// - Parameters:
    ///   - senderID: the run's identifier.
    ///   - sequence: the probe's position in the run.
    ///   - sentAtNanoseconds: the send time, nanoseconds since the Unix epoch.
    ///   - runLength: how many probes the run sends, or 0 when open-ended.
    public static func probe(senderID: UInt64, sequence: UInt64, sentAtNanoseconds: Int64, runLength: UInt64)
        -> ProbePacket
    {
        ProbePacket(
            kind: .probe, senderID: senderID, sequence: sequence, sentAtNanoseconds: sentAtNanoseconds,
            runLength: runLength, text: [])
    }

    /// Makes a message.
    ///
    /// - Parameters:
    ///   - text: the message's UTF-8 bytes.
    ///   - senderID: the run's identifier.
    ///   - sequence: the message's position in the run.
    ///   - sentAtNanoseconds: the send time, nanoseconds since the Unix epoch.
    public static func message(_ text: [UInt8], senderID: UInt64, sequence: UInt64, sentAtNanoseconds: Int64)
        -> ProbePacket
    {
        ProbePacket(
            kind: .message, senderID: senderID, sequence: sequence, sentAtNanoseconds: sentAtNanoseconds,
            runLength: 0, text: text)
    }

    /// The packet's bytes.
    ///
    /// - Parameter size: for a probe, the total size to pad to (at least
    ///   ``ProbeConstants/minimumProbeSize``; smaller values give the minimum). Ignored
    ///   for a message, whose size is the header plus its text.
    /// - Returns: the encoded packet.
    /// - Throws: ``WireError/unencodable(_:)`` when the packet would be larger than
    ///   ``ProbeConstants/maximumPacketSize``.
    public func encoded(size: Int = ProbeConstants.minimumProbeSize) throws(WireError) -> [UInt8] {
        let total =
            switch kind {
            case .probe: max(size, ProbeConstants.minimumProbeSize)
            case .message: ProbeConstants.headerSize + text.count
            }
        guard total <= ProbeConstants.maximumPacketSize else {
            throw .unencodable("a lab packet of \(total) bytes is larger than \(ProbeConstants.maximumPacketSize)")
        }
        var writer = ByteWriter(capacity: total)
        writer.write(ProbeConstants.magic)
        writer.write(ProbeConstants.version)
        writer.write(kind.rawValue)
        writer.write(UInt16(0))
        writer.write(senderID)
        writer.write(sequence)
        writer.write(UInt64(bitPattern: sentAtNanoseconds))
        switch kind {
        case .probe:
            writer.write(runLength)
            writer.write(bytes: repeatElement(UInt8(0), count: total - ProbeConstants.minimumProbeSize))
        case .message:
            writer.write(bytes: text)
        }
        return writer.bytes
    }

    /// Whether `bytes` open with the lab packet magic, so a receiver can tell lab packets
    /// from other traffic on the port before decoding.
    public static func hasMagic(_ bytes: ArraySlice<UInt8>) -> Bool {
        var reader = ByteReader(bytes)
        return (try? reader.readUInt32()) == ProbeConstants.magic
    }

    /// Decodes one packet.
    ///
    /// - Parameter bytes: a whole datagram's payload.
    /// - Returns: the packet; a probe's padding is skipped, whatever it holds.
    /// - Throws: ``WireError/invalidValue(offset:field:)`` for a wrong magic,
    ///   ``WireError/unsupportedVersion(_:)``, ``WireError/unknownMessageType(_:)`` for an
    ///   unknown kind, ``WireError/truncated(offset:needed:)`` for a short packet, and
    ///   ``WireError/lengthTooLarge(offset:length:maximum:)`` above
    ///   ``ProbeConstants/maximumPacketSize``.
    public static func consume(_ bytes: ArraySlice<UInt8>) throws(WireError) -> ProbePacket {
        guard bytes.count <= ProbeConstants.maximumPacketSize else {
            throw .lengthTooLarge(offset: 0, length: bytes.count, maximum: ProbeConstants.maximumPacketSize)
        }
        var reader = ByteReader(bytes)
        guard try reader.readUInt32() == ProbeConstants.magic else { throw .invalidValue(offset: 0, field: "magic") }
        let version = try reader.readUInt8()
        guard version == ProbeConstants.version else { throw .unsupportedVersion(version) }
        let rawKind = try reader.readUInt8()
        guard let kind = ProbePacketKind(rawValue: rawKind) else { throw .unknownMessageType(rawKind) }
        _ = try reader.readUInt16()
        let senderID = try reader.readUInt64()
        let sequence = try reader.readUInt64()
        let sentAt = Int64(bitPattern: try reader.readUInt64())
        switch kind {
        case .probe:
            let runLength = try reader.readUInt64()
            return .probe(senderID: senderID, sequence: sequence, sentAtNanoseconds: sentAt, runLength: runLength)
        case .message:
            let text = Array(reader.readRest())
            return .message(text, senderID: senderID, sequence: sequence, sentAtNanoseconds: sentAt)
        }
    }

    /// Decodes one packet from a whole array, as the `ArraySlice` overload does.
    public static func consume(_ bytes: [UInt8]) throws(WireError) -> ProbePacket {
        try consume(bytes[...])
    }
}
