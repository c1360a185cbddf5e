/// The records that lead from a zone down to one name: delegations, then the name's own
/// record, each signed by the zone the one before delegated to.
///
/// ### Purpose
/// A chain is what the overlay stores and hands out. A single record is a chain of one;
/// a publisher also stores its record with the delegations above it ("stapled"), under
/// the root zone's key and the whole path, so that one lookup returns everything a
/// resolver needs to verify the name (``key``). Storers and resolvers check a chain with
/// ``verify(now:)``: each record is validly signed by its zone, unexpired, and the
/// zone of every record after the first is the key the record before delegated to.
///
/// Wire form (`docs/PROTOCOL.md`, "Name records"): a count byte (1 to
/// ``NameConstants/maximumDepth`` + 1), then the signed records, root first; at most
/// ``NameConstants/maximumChainSize`` bytes.
public struct NameChain: Hashable, Sendable {
    /// The records, root zone first.
    public let records: [SignedNameRecord]

    /// Wraps records, root zone first.
    public init(records: [SignedNameRecord]) {
        self.records = records
    }

    /// The zone the chain starts in.
    public var rootZone: PeerID? { records.first?.record.zone }

    /// The path below the root zone that the chain leads to, in name order
    /// (`printer.lab` for a delegation of `lab` then the record of `printer`); empty
    /// for an apex record.
    public var path: String {
        records.reversed().map(\.record.label).filter { !$0.isEmpty }.joined(separator: ".")
    }

    /// The routing key the chain is stored at: BLAKE2b-256 of
    /// ``NameConstants/keyDomain``, the root zone's key and the path.
    public var key: RoutingKey? {
        rootZone.map { RoutingKey(nameZone: $0, path: path) }
    }

    /// The chain's last record: the name's own.
    public var last: SignedNameRecord? { records.last }

    /// Checks every record and the links between them.
    ///
    /// - Parameter now: the current wall-clock time.
    /// - Throws: ``NameError/forged(_:)`` (a bad signature, a broken link, an apex
    ///   record inside a chain, no records), ``NameError/expired(_:)``,
    ///   ``NameError/delegationLoop(_:)`` or ``NameError/tooDeep(_:)``.
    public func verify(now: UnixTime) throws(NameError) {
        guard let first = records.first else { throw .forged("empty chain") }
        guard records.count <= NameConstants.maximumDepth + 1 else { throw .tooDeep(path) }
        var zones: Set<PeerID> = []
        var expectedZone = first.record.zone
        for (index, signed) in records.enumerated() {
            let record = signed.record
            let name = record.label.isEmpty ? "the apex of \(record.zone.shortDescription)" : record.label
            guard record.zone == expectedZone else { throw .forged("\(name) is not signed by its delegated zone") }
            guard zones.insert(record.zone).inserted else { throw .delegationLoop(path) }
            guard !record.label.isEmpty || records.count == 1 else { throw .forged("apex record inside a chain") }
            try signed.verify(now: now, name: name)
            if index < records.count - 1 {
                guard case .delegation(let child) = record.content else {
                    throw .forged("\(name) is data but the chain goes on")
                }
                expectedZone = child
            }
        }
    }

    /// Compares two chains for the same key as a store or cache must: at the first
    /// record that differs, the higher sequence number is newer.
    /// - Returns: ``NameChainOrder/newer`` or ``NameChainOrder/older``; or
    ///   ``NameChainOrder/same`` when the records are the same or differ only at an equal
    ///   sequence number (an owner that signed two records with one number: whichever
    ///   is held stays).
    public func compare(to other: NameChain) -> NameChainOrder {
        for (mine, theirs) in zip(records, other.records) where mine != theirs {
            if mine.record.sequence > theirs.record.sequence { return .newer }
            if mine.record.sequence < theirs.record.sequence { return .older }
            return .same
        }
        return .same
    }

    /// Appends the wire form.
    /// - Throws: ``WireError/unencodable(_:)`` for no records, too many, or too many bytes.
    public func encode(into writer: inout ByteWriter) throws(WireError) {
        guard (1...(NameConstants.maximumDepth + 1)).contains(records.count) else {
            throw .unencodable("chain of \(records.count) records")
        }
        let start = writer.bytes.count
        writer.write(UInt8(records.count))
        for signed in records {
            writer.write(bytes: signed.body)
            writer.write(bytes: signed.signature)
        }
        guard writer.bytes.count - start <= NameConstants.maximumChainSize else {
            throw .unencodable(
                "chain of \(writer.bytes.count - start) bytes; at most \(NameConstants.maximumChainSize)")
        }
    }

    /// Reads a chain at the reader's position. Does not verify it.
    public static func decode(from reader: inout ByteReader) throws(WireError) -> NameChain {
        let start = reader.offset
        let countOffset = reader.offset
        let count = try reader.readCount(maximum: NameConstants.maximumDepth + 1)
        guard count > 0 else { throw .invalidValue(offset: countOffset, field: "chain length") }
        var records: [SignedNameRecord] = []
        for _ in 0..<count { records.append(try SignedNameRecord.decode(from: &reader)) }
        guard reader.offset - start <= NameConstants.maximumChainSize else {
            throw .lengthTooLarge(
                offset: start, length: reader.offset - start, maximum: NameConstants.maximumChainSize)
        }
        return NameChain(records: records)
    }
}

/// How one chain compares with another for the same key (``NameChain/compare(to:)``).
public enum NameChainOrder: Hashable, Sendable {
    /// It carries a higher sequence number where they first differ.
    case newer
    /// It carries a lower one: a rollback.
    case older
    /// The same records, or an equal sequence number where they first differ.
    case same
}
