/// Builds one DNS message incrementally, compressing names, never above a size limit.
///
/// ### Purpose
/// The cores pack as many records as fit into a datagram: ``append(_:to:)`` returns
/// `false` and leaves the message unchanged when a record does not fit, so the caller
/// can start another message. Questions come first, then sections in wire order.
///
/// The compression table maps each name suffix written so far (compared ignoring ASCII
/// case) to its offset; only offsets below `0x4000` can be pointed at.
public struct DNSMessageEncoder: Sendable {
    /// The bytes so far, header included (its counts are patched by ``finish()``).
    public private(set) var bytes: [UInt8]
    let maximumSize: Int
    let compress: Bool
    var table: [DNSName: Int] = [:]
    var counts: [Int] = [0, 0, 0, 0]
    var section = -1
    var overflowed = false
    /// Suffixes the current append added to ``table``, removed again if it is undone.
    var added: [DNSName] = []

    /// Starts a message.
    /// - Parameters:
    ///   - id: the message ID.
    ///   - flags: the header flags.
    ///   - maximumSize: the largest message to build.
    ///   - compress: whether to compress names (off for canonical forms).
    public init(id: UInt16 = 0, flags: UInt16 = 0, maximumSize: Int, compress: Bool = true) {
        self.maximumSize = maximumSize
        self.compress = compress
        bytes = []
        bytes.reserveCapacity(min(maximumSize, 1500))
        writeUInt16(id)
        writeUInt16(flags)
        bytes.append(contentsOf: [0, 0, 0, 0, 0, 0, 0, 0])
    }

    /// Records and questions written so far.
    public var recordCount: Int { counts.reduce(0, +) }

    /// Appends a question.
    /// - Returns: `false` (and writes nothing) when it does not fit.
    /// - Precondition: no record has been appended yet.
    public mutating func append(_ question: DNSQuestion) -> Bool {
        precondition(section <= -1, "questions come before records")
        return transaction(slot: 0) { encoder in
            encoder.writeName(question.name)
            encoder.writeUInt16(question.type.rawValue)
            encoder.writeUInt16(question.questionClass | (question.unicastResponse ? MDNSConstants.classTopBit : 0))
        }
    }

    /// Appends a record to `section`.
    /// - Returns: `false` (and writes nothing) when it does not fit.
    /// - Precondition: sections are appended in wire order.
    public mutating func append(_ record: DNSRecord, to section: DNSSection) -> Bool {
        precondition(section.rawValue >= self.section, "sections come in wire order")
        self.section = section.rawValue
        return transaction(slot: section.rawValue + 1) { encoder in
            encoder.writeName(record.name)
            encoder.writeUInt16(record.type.rawValue)
            encoder.writeUInt16(record.recordClass | (record.cacheFlush ? MDNSConstants.classTopBit : 0))
            encoder.writeUInt16(UInt16(truncatingIfNeeded: record.ttl >> 16))
            encoder.writeUInt16(UInt16(truncatingIfNeeded: record.ttl))
            let lengthAt = encoder.bytes.count
            encoder.writeUInt16(0)
            encoder.writeRData(record.data, canonical: false)
            let length = encoder.bytes.count - lengthAt - 2
            encoder.bytes[lengthAt] = UInt8(truncatingIfNeeded: length >> 8)
            encoder.bytes[lengthAt + 1] = UInt8(truncatingIfNeeded: length)
            if length > Int(UInt16.max) { encoder.overflowed = true }
        }
    }

    /// Patches the section counts into the header and returns the message.
    public mutating func finish() -> [UInt8] {
        for (index, count) in counts.enumerated() {
            bytes[4 + 2 * index] = UInt8(truncatingIfNeeded: count >> 8)
            bytes[5 + 2 * index] = UInt8(truncatingIfNeeded: count)
        }
        return bytes
    }

    /// Runs `body`, then undoes it when the message grew past the limit.
    private mutating func transaction(slot: Int, _ body: (inout DNSMessageEncoder) -> Void) -> Bool {
        let saved = bytes.count
        added.removeAll(keepingCapacity: true)
        body(&self)
        guard bytes.count <= maximumSize, counts[slot] < Int(UInt16.max), !overflowed else {
            bytes.removeSubrange(saved...)
            for suffix in added { table[suffix] = nil }
            overflowed = false
            return false
        }
        counts[slot] += 1
        return true
    }

    mutating func writeUInt16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    /// Writes `name`, pointing at an earlier copy of its longest known suffix.
    /// - Parameters:
    ///   - name: the name.
    ///   - canonical: lower ASCII letters and never compress.
    ///   - compressible: whether this name may point at an earlier suffix.
    mutating func writeName(_ name: DNSName, canonical: Bool = false, compressible: Bool = true) {
        var labels = name.labels[...]
        while !labels.isEmpty {
            if compress && compressible && !canonical {
                let suffix = DNSName(validated: Array(labels))
                if let offset = table[suffix] {
                    writeUInt16(0xC000 | UInt16(offset))
                    return
                }
                if bytes.count < 0x4000 {
                    table[suffix] = bytes.count
                    added.append(suffix)
                }
            }
            let label = labels.removeFirst()
            bytes.append(UInt8(label.count))
            if canonical {
                for byte in label { bytes.append(DNSName.lowered(byte)) }
            } else {
                bytes.append(contentsOf: label)
            }
        }
        bytes.append(0)
    }

    /// Writes RDATA (without its length); `canonical` lowers names and never compresses.
    mutating func writeRData(_ data: DNSRecordData, canonical: Bool) {
        switch data {
        case .a(let address):
            writeUInt16(UInt16(truncatingIfNeeded: address >> 16))
            writeUInt16(UInt16(truncatingIfNeeded: address))
        case .aaaa(let high, let low):
            for half in [high, low] {
                for shift in stride(from: 56, through: 0, by: -8) {
                    bytes.append(UInt8(truncatingIfNeeded: half >> UInt64(shift)))
                }
            }
        case .ptr(let target):
            writeName(target, canonical: canonical)
        case .srv(let priority, let weight, let port, let target):
            writeUInt16(priority)
            writeUInt16(weight)
            writeUInt16(port)
            writeName(target, canonical: canonical)
        case .txt(let strings):
            if strings.isEmpty { bytes.append(0) }
            for string in strings {
                let part = string.prefix(255)
                bytes.append(UInt8(part.count))
                bytes.append(contentsOf: part)
            }
        case .nsec(let next, let types):
            // RFC 6762 §18.14 allows compression here, but uncompressed is what every
            // receiver reads.
            writeName(next, canonical: canonical, compressible: false)
            let highest = types.filter { $0.rawValue < 256 }.map(\.rawValue).max()
            guard let highest else { return }
            let length = Int(highest) / 8 + 1
            var bitmap = [UInt8](repeating: 0, count: length)
            for type in types where type.rawValue < 256 {
                bitmap[Int(type.rawValue) / 8] |= 0x80 >> UInt8(type.rawValue % 8)
            }
            bytes.append(0)
            bytes.append(UInt8(length))
            bytes.append(contentsOf: bitmap)
        case .unknown(_, let raw):
            bytes.append(contentsOf: raw)
        }
    }
}
