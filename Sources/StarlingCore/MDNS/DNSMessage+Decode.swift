extension DNSMessage {
    /// Decodes one mDNS message, rejecting hostile input.
    ///
    /// The decoder never allocates from the header's counts, stops at the first field
    /// that runs past the end, follows compression pointers only strictly backwards (at
    /// most ``MDNSConstants/maximumPointerJumps``), caps labels at 63 and names at 255
    /// bytes, rejects the reserved label types, requires every typed RDATA to fill its
    /// RDLENGTH exactly, and caps the records per message.
    ///
    /// - Parameter bytes: the datagram's payload, borrowed for the call.
    /// - Returns: the message.
    /// - Throws: ``DNSWireError``.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(DNSWireError) -> DNSMessage {
        var decoder = DNSMessageDecoder(bytes: bytes)
        return try decoder.decodeMessage()
    }

    /// Decodes one mDNS message from an array; see ``decode(_:)-(UnsafeRawBufferPointer)``.
    public static func decode(_ bytes: [UInt8]) throws(DNSWireError) -> DNSMessage {
        let result: Result<DNSMessage, DNSWireError> = bytes.withUnsafeBytes { raw in
            do throws(DNSWireError) { return .success(try decode(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

/// The decoding cursor over one message.
struct DNSMessageDecoder {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func decodeMessage() throws(DNSWireError) -> DNSMessage {
        guard bytes.count >= MDNSConstants.headerSize else { throw .tooShort(count: bytes.count) }
        guard bytes.count <= MDNSConstants.maximumMessageSize else { throw .tooLong(count: bytes.count) }
        let id = try readUInt16(limit: bytes.count)
        let flags = try readUInt16(limit: bytes.count)
        var counts: [Int] = []
        for _ in 0..<4 { counts.append(Int(try readUInt16(limit: bytes.count))) }
        let total = counts.reduce(0, +)
        guard total <= MDNSConstants.maximumRecordsPerMessage else { throw .tooManyRecords(count: total) }
        var message = DNSMessage(id: id, flags: flags)
        for _ in 0..<counts[0] { message.questions.append(try readQuestion()) }
        for _ in 0..<counts[1] { message.answers.append(try readRecord()) }
        for _ in 0..<counts[2] { message.authorities.append(try readRecord()) }
        for _ in 0..<counts[3] { message.additionals.append(try readRecord()) }
        guard offset == bytes.count else { throw .trailingBytes(count: bytes.count - offset) }
        return message
    }

    mutating func readQuestion() throws(DNSWireError) -> DNSQuestion {
        let name = try readName(limit: bytes.count)
        let type = try readUInt16(limit: bytes.count)
        let rawClass = try readUInt16(limit: bytes.count)
        return DNSQuestion(
            name: name, type: DNSRecordType(rawValue: type),
            unicastResponse: rawClass & MDNSConstants.classTopBit != 0,
            questionClass: rawClass & ~MDNSConstants.classTopBit)
    }

    mutating func readRecord() throws(DNSWireError) -> DNSRecord {
        let name = try readName(limit: bytes.count)
        let type = DNSRecordType(rawValue: try readUInt16(limit: bytes.count))
        let rawClass = try readUInt16(limit: bytes.count)
        let ttl = UInt32(try readUInt16(limit: bytes.count)) << 16 | UInt32(try readUInt16(limit: bytes.count))
        let length = Int(try readUInt16(limit: bytes.count))
        let start = offset
        let end = start + length
        guard end <= bytes.count else { throw .truncated(offset: start) }
        let data = try readRData(type: type, end: end)
        guard offset == end else { throw .badRData(offset: start, type: type.rawValue) }
        return DNSRecord(
            name: name, data: data, ttl: ttl, cacheFlush: rawClass & MDNSConstants.classTopBit != 0,
            recordClass: rawClass & ~MDNSConstants.classTopBit)
    }

    mutating func readRData(type: DNSRecordType, end: Int) throws(DNSWireError) -> DNSRecordData {
        let start = offset
        switch type {
        case .a:
            guard end - start == 4 else { throw .badRData(offset: start, type: type.rawValue) }
            return .a(UInt32(try readUInt16(limit: end)) << 16 | UInt32(try readUInt16(limit: end)))
        case .aaaa:
            guard end - start == 16 else { throw .badRData(offset: start, type: type.rawValue) }
            var halves: [UInt64] = [0, 0]
            for index in 0..<16 { halves[index / 8] = halves[index / 8] << 8 | UInt64(bytes[start + index]) }
            offset = end
            return .aaaa(high: halves[0], low: halves[1])
        case .ptr:
            return .ptr(try readName(limit: end))
        case .srv:
            let priority = try readUInt16(limit: end)
            let weight = try readUInt16(limit: end)
            let port = try readUInt16(limit: end)
            return .srv(priority: priority, weight: weight, port: port, target: try readName(limit: end))
        case .txt:
            // An empty TXT RDATA is not allowed (RFC 6763 §6.1); read it as one empty string.
            guard end > start else { return .txt([[]]) }
            var strings: [[UInt8]] = []
            while offset < end {
                let length = Int(bytes[offset])
                guard offset + 1 + length <= end else { throw .badRData(offset: offset, type: type.rawValue) }
                strings.append(Array(bytes[(offset + 1)..<(offset + 1 + length)]))
                offset += 1 + length
            }
            return .txt(strings)
        case .nsec:
            let next = try readName(limit: end)
            var types = Set<DNSRecordType>()
            var previousWindow = -1
            while offset < end {
                let at = offset
                guard offset + 2 <= end else { throw .badNSECWindow(offset: at) }
                let window = Int(bytes[offset])
                let length = Int(bytes[offset + 1])
                guard length >= 1, length <= 32, offset + 2 + length <= end, window > previousWindow else {
                    throw .badNSECWindow(offset: at)
                }
                previousWindow = window
                for index in 0..<length {
                    let byte = bytes[offset + 2 + index]
                    for bit in 0..<8 where byte & (0x80 >> UInt8(bit)) != 0 {
                        types.insert(DNSRecordType(rawValue: UInt16(window * 256 + index * 8 + bit)))
                    }
                }
                offset += 2 + length
            }
            guard previousWindow <= 0 else {
                // Not mDNS's restricted form: keep the bytes.
                return .unknown(type: type, bytes: Array(bytes[start..<end]))
            }
            return .nsec(next: next, types: types)
        default:
            offset = end
            return .unknown(type: type, bytes: Array(bytes[start..<end]))
        }
    }

    mutating func readUInt16(limit: Int) throws(DNSWireError) -> UInt16 {
        guard offset + 2 <= limit else { throw .truncated(offset: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    /// Reads a possibly compressed name whose in-place part must end by `limit`.
    mutating func readName(limit: Int) throws(DNSWireError) -> DNSName {
        let nameStart = offset
        var position = offset
        var lowestStart = offset
        var currentLimit = limit
        var resume: Int?
        var jumps = 0
        var length = 1
        var labels: [[UInt8]] = []
        while true {
            guard position < currentLimit else { throw .truncated(offset: position) }
            let byte = Int(bytes[position])
            switch byte >> 6 {
            case 0:
                if byte == 0 {
                    offset = resume ?? position + 1
                    return DNSName(validated: labels)
                }
                guard position + 1 + byte <= currentLimit else { throw .truncated(offset: position) }
                length += 1 + byte
                guard length <= MDNSConstants.maximumNameLength else { throw .nameTooLong }
                labels.append(Array(bytes[(position + 1)..<(position + 1 + byte)]))
                position += 1 + byte
            case 3:
                guard position + 2 <= currentLimit else { throw .truncated(offset: position) }
                let target = (byte & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < lowestStart, target >= MDNSConstants.headerSize else {
                    throw .badPointer(offset: position, target: target)
                }
                jumps += 1
                guard jumps <= MDNSConstants.maximumPointerJumps else { throw .tooManyPointers(offset: nameStart) }
                if resume == nil { resume = position + 2 }
                lowestStart = target
                position = target
                // Labels after a jump lie before the name's start, anywhere in the message.
                currentLimit = bytes.count
            default:
                throw .badLabelType(offset: position)
            }
        }
    }
}
