import StarlingTestSupport
import Testing

@testable import StarlingCore

/// The mDNS wire codec: names, round trips, compression and every hostile input.
@Suite struct MDNSWireTests {
    static let host = try! DNSName("starling-a.local")
    static let service = try! DNSName("_starling._udp.local")
    static let instance = try! DNSName(label: "Peer One.v2", parent: service)

    static func sample() -> DNSMessage {
        DNSMessage(
            id: 7, flags: DNSMessage.responseFlags,
            questions: [DNSQuestion(name: service, type: .ptr, unicastResponse: true)],
            answers: [
                DNSRecord(name: service, data: .ptr(instance), ttl: 4500),
                DNSRecord(
                    name: instance, data: .srv(priority: 0, weight: 0, port: 4242, target: host), ttl: 120,
                    cacheFlush: true),
                DNSRecord(name: instance, data: .txt([Array("v=1".utf8), Array("id=x".utf8)]), ttl: 4500),
            ],
            authorities: [DNSRecord(name: host, data: .a(0x0A00_0002), ttl: 120, cacheFlush: true)],
            additionals: [
                DNSRecord(name: host, data: .aaaa(high: 0xFD00_0000_0000_0000, low: 0xA), ttl: 120),
                DNSRecord(name: host, data: .nsec(next: host, types: [.a, .aaaa]), ttl: 120, cacheFlush: true),
                DNSRecord(name: host, data: .unknown(type: DNSRecordType(rawValue: 99), bytes: [1, 2, 3]), ttl: 5),
            ])
    }

    /// A header with the given counts followed by `body`.
    static func message(counts: [UInt16], _ body: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 0x84, 0]
        for count in counts { bytes += [UInt8(count >> 8), UInt8(count & 0xFF)] }
        return bytes + body
    }

    @Test func dnsName_text_escapesDotsInInstanceLabels() throws {
        #expect(Self.instance.labels.first == Array("Peer One.v2".utf8))
        #expect(Self.instance.description == "Peer One\\.v2._starling._udp.local")
        #expect(try DNSName(Self.instance.description) == Self.instance)
        #expect(try DNSName("local.") == MDNSConstants.localDomain)
        #expect(try DNSName("") == .root)
    }

    @Test func dnsName_equality_ignoresASCIICaseOnly() throws {
        let upper = try DNSName("Starling-A.LOCAL")
        #expect(upper == Self.host)
        #expect(upper.hashValue == Self.host.hashValue)
        #expect(try DNSName("é.local") != DNSName("É.local"))
        #expect(Self.instance.hasSuffix(try DNSName("_UDP.local")))
    }

    @Test func dnsName_limits_rejectLongLabelsAndNames() throws {
        #expect(throws: DNSWireError.labelTooLong(length: 64)) {
            try DNSName(labels: [[UInt8](repeating: 0x61, count: 64)])
        }
        let label = [UInt8](repeating: 0x61, count: 63)
        #expect(throws: DNSWireError.nameTooLong) { try DNSName(labels: [label, label, label, label]) }
        #expect(try DNSName(labels: [label, label, label, [UInt8](repeating: 0x61, count: 61)]).wireLength == 255)
        #expect(throws: DNSWireError.emptyLabel) { try DNSName("a..local") }
    }

    @Test func dnsMessage_roundTrip_keepsEverySection() throws {
        let bytes = try Self.sample().encoded()
        #expect(try DNSMessage.decode(bytes) == Self.sample())
    }

    @Test func dnsMessage_encode_compressesRepeatedSuffixes() throws {
        let message = Self.sample()
        let compressed = try message.encoded()
        var plain = DNSMessageEncoder(id: 7, flags: message.flags, maximumSize: 9000, compress: false)
        for question in message.questions { _ = plain.append(question) }
        for record in message.answers { _ = plain.append(record, to: .answer) }
        for record in message.authorities { _ = plain.append(record, to: .authority) }
        for record in message.additionals { _ = plain.append(record, to: .additional) }
        let uncompressed = plain.finish()
        #expect(compressed.count < uncompressed.count - 100)
        #expect(try DNSMessage.decode(uncompressed) == message)
        // The second occurrence of the service name is a pointer to the first (offset 12).
        let service = Self.service.canonicalWireForm
        #expect(compressed[12..<(12 + service.count)].elementsEqual(service))
        #expect(compressed.count(where: { $0 == 0xC0 }) >= 5)
    }

    @Test func dnsMessageEncoder_append_refusesWhatDoesNotFitAndStaysValid() throws {
        var encoder = DNSMessageEncoder(flags: DNSMessage.responseFlags, maximumSize: 100)
        let record = DNSRecord(name: Self.instance, data: .txt([[UInt8](repeating: 0x41, count: 40)]), ttl: 1)
        let first = encoder.append(record, to: .answer)
        let second = encoder.append(record, to: .answer)
        #expect(first && !second)
        let bytes = encoder.finish()
        #expect(bytes.count <= 100)
        #expect(try DNSMessage.decode(bytes).answers == [record])
    }

    @Test func dnsMessage_decode_oneByteAtATimeNeverTraps() throws {
        let bytes = try Self.sample().encoded()
        for length in 0..<bytes.count {
            #expect(throws: DNSWireError.self) { try DNSMessage.decode(Array(bytes.prefix(length))) }
        }
    }

    @Test func dnsMessage_decode_rejectsSizeLimits() {
        #expect(throws: DNSWireError.tooShort(count: 11)) { try DNSMessage.decode([UInt8](repeating: 0, count: 11)) }
        #expect(throws: DNSWireError.tooLong(count: 9001)) { try DNSMessage.decode([UInt8](repeating: 0, count: 9001)) }
        #expect(throws: DNSWireError.tooManyRecords(count: 4 * 0xFFFF)) {
            try DNSMessage.decode(Self.message(counts: [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF], []))
        }
        // Counts promise more than the bytes hold: stops at the end, allocates nothing.
        #expect(throws: DNSWireError.truncated(offset: 12)) {
            try DNSMessage.decode(Self.message(counts: [500, 0, 0, 0], []))
        }
        #expect(throws: DNSWireError.trailingBytes(count: 1)) {
            try DNSMessage.decode(Self.message(counts: [0, 0, 0, 0], [0]))
        }
    }

    @Test func dnsMessage_decode_rejectsLoopingPointer() {
        // A question whose name is a pointer to itself.
        #expect(throws: DNSWireError.badPointer(offset: 12, target: 12)) {
            try DNSMessage.decode(Self.message(counts: [1, 0, 0, 0], [0xC0, 12, 0, 1, 0, 1]))
        }
        // Two names pointing at each other: the second jump is not further back.
        let body: [UInt8] = [1, 0x61, 0xC0, 18, 0, 1, 0, 1] + [0xC0, 12, 0, 1, 0, 1]
        #expect(throws: DNSWireError.self) { try DNSMessage.decode(Self.message(counts: [2, 0, 0, 0], body)) }
    }

    @Test func dnsMessage_decode_rejectsForwardAndHeaderPointers() {
        #expect(throws: DNSWireError.badPointer(offset: 12, target: 20)) {
            try DNSMessage.decode(Self.message(counts: [1, 0, 0, 0], [0xC0, 20, 0, 1, 0, 1, 0, 0, 0]))
        }
        #expect(throws: DNSWireError.badPointer(offset: 12, target: 2)) {
            try DNSMessage.decode(Self.message(counts: [1, 0, 0, 0], [0xC0, 2, 0, 1, 0, 1]))
        }
    }

    @Test func dnsMessage_decode_followsLegalBackwardChains() throws {
        // "a.local" at 12, then "b" + pointer to 12, then "c" + pointer to the second name.
        let body: [UInt8] =
            [1, 0x61, 5] + Array("local".utf8) + [0, 0, 1, 0, 1] + [1, 0x62, 0xC0, 12, 0, 1, 0, 1]
            + [1, 0x63, 0xC0, 25, 0, 1, 0, 1]
        let message = try DNSMessage.decode(Self.message(counts: [3, 0, 0, 0], body))
        #expect(message.questions.map(\.name.description) == ["a.local", "b.a.local", "c.b.a.local"])
    }

    @Test func dnsMessage_decode_capsPointerJumps() throws {
        // 130 names, each "x" + pointer to the previous: the last follows 129 pointers.
        var body: [UInt8] = [1, 0x78, 0, 0, 1, 0, 1]
        var previous = 12
        for _ in 0..<129 {
            let start = 12 + body.count
            body += [0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF), 0, 1, 0, 1]
            previous = start
        }
        #expect(throws: DNSWireError.self) { try DNSMessage.decode(Self.message(counts: [130, 0, 0, 0], body)) }
    }

    @Test func dnsMessage_decode_rejectsOverlongName() {
        // Five 63-byte labels in place: 321 bytes of name.
        var body: [UInt8] = []
        for _ in 0..<5 { body += [63] + [UInt8](repeating: 0x61, count: 63) }
        body += [0, 0, 1, 0, 1]
        #expect(throws: DNSWireError.nameTooLong) { try DNSMessage.decode(Self.message(counts: [1, 0, 0, 0], body)) }
    }

    @Test func dnsMessage_decode_rejectsReservedLabelTypes() {
        for byte: UInt8 in [0x40, 0x80] {
            #expect(throws: DNSWireError.badLabelType(offset: 12)) {
                try DNSMessage.decode(Self.message(counts: [1, 0, 0, 0], [byte, 0, 0, 1, 0, 1]))
            }
        }
    }

    /// A record `root A IN ttl 0` with the given type and RDATA.
    static func record(type: UInt16, rdata: [UInt8], rdlength: Int? = nil) -> [UInt8] {
        let length = rdlength ?? rdata.count
        return message(
            counts: [0, 1, 0, 0],
            [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1, 0, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xFF)]
                + rdata)
    }

    @Test func dnsMessage_decode_rejectsBadRData() {
        #expect(throws: DNSWireError.badRData(offset: 23, type: 1)) {
            try DNSMessage.decode(Self.record(type: 1, rdata: [1, 2, 3]))
        }
        #expect(throws: DNSWireError.badRData(offset: 23, type: 28)) {
            try DNSMessage.decode(Self.record(type: 28, rdata: [1, 2, 3, 4]))
        }
        // RDLENGTH past the end of the message.
        #expect(throws: DNSWireError.truncated(offset: 23)) {
            try DNSMessage.decode(Self.record(type: 1, rdata: [1, 2, 3, 4], rdlength: 5))
        }
        // A TXT string overrunning its RDATA.
        #expect(throws: DNSWireError.badRData(offset: 23, type: 16)) {
            try DNSMessage.decode(Self.record(type: 16, rdata: [5, 0x61]))
        }
        // A PTR name longer than RDLENGTH: the name may not read past the RDATA.
        #expect(throws: DNSWireError.truncated(offset: 25)) {
            try DNSMessage.decode(Self.record(type: 12, rdata: [1, 0x61, 0], rdlength: 2) + [0])
        }
        // A PTR name shorter than RDLENGTH: RDATA not consumed exactly.
        #expect(throws: DNSWireError.badRData(offset: 23, type: 12)) {
            try DNSMessage.decode(Self.record(type: 12, rdata: [1, 0x61, 0, 9]))
        }
        // SRV too short for its fixed fields.
        #expect(throws: DNSWireError.truncated(offset: 27)) {
            try DNSMessage.decode(Self.record(type: 33, rdata: [0, 0, 0, 0, 0]))
        }
    }

    @Test func dnsMessage_decode_rejectsBadNSECWindows() throws {
        for rdata: [UInt8] in [[0, 0, 0], [0, 0, 33] + [UInt8](repeating: 0, count: 33), [0, 0, 4, 0x40], [0, 0]] {
            #expect(throws: DNSWireError.badNSECWindow(offset: 24)) {
                try DNSMessage.decode(Self.record(type: 47, rdata: rdata))
            }
        }
        // Windows out of order.
        #expect(throws: DNSWireError.badNSECWindow(offset: 27)) {
            try DNSMessage.decode(Self.record(type: 47, rdata: [0, 1, 1, 0x40, 0, 1, 0x40]))
        }
        // A well-formed NSEC: A (1) and AAAA (28).
        let good = try DNSMessage.decode(Self.record(type: 47, rdata: [0, 0, 4, 0x40, 0, 0, 0x08]))
        #expect(good.answers.first?.data == .nsec(next: .root, types: [.a, .aaaa]))
        // Windows above 0 are not mDNS's restricted form: kept as unknown.
        let wide = try DNSMessage.decode(Self.record(type: 47, rdata: [0, 1, 1, 0x40]))
        #expect(wide.answers.first?.data == .unknown(type: .nsec, bytes: [0, 1, 1, 0x40]))
    }

    @Test func dnsRecordData_canonicalBytes_lowersAndDoesNotCompress() throws {
        let upper = DNSRecordData.srv(priority: 1, weight: 2, port: 3, target: try DNSName("HOST.local"))
        #expect(upper.canonicalBytes == [0, 1, 0, 2, 0, 3] + (try DNSName("host.local")).canonicalWireForm)
        #expect(DNSWireError.badPointer(offset: 1, target: 2).description.contains("backwards"))
    }

    @Test func dnsMessage_decode_mutatedInputsNeverTrapAndRoundTrip() throws {
        let original = try Self.sample().encoded()
        var random = TestRandom(seed: 13)
        for _ in 0..<5000 {
            var bytes = original
            for _ in 0...(random.next() % 4) {
                bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            guard let message = try? DNSMessage.decode(bytes) else { continue }
            guard !message.allRecords.contains(where: { $0.type == .nsec && $0.data.isUnknown }) else { continue }
            if let encoded = try? message.encoded() { #expect(try DNSMessage.decode(encoded) == message) }
        }
    }

    @Test func dnsMessage_decode_readsEmptyTXTAsOneEmptyString() throws {
        let message = try DNSMessage.decode(Self.record(type: 16, rdata: []))
        #expect(message.answers.first?.data == .txt([[]]))
    }
}
