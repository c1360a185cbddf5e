import Testing

@testable import StarlingCore

@Suite struct ByteReaderWriterTests {
    @Test func writer_integers_areBigEndian() {
        var writer = ByteWriter()
        writer.write(UInt8(0x01))
        writer.write(UInt16(0x0203))
        writer.write(UInt32(0x0405_0607))
        writer.write(UInt64(0x0809_0A0B_0C0D_0E0F))
        #expect(writer.bytes == Array(1...15))
    }

    @Test func reader_roundTrip_allWidths() throws {
        var writer = ByteWriter()
        writer.write(UInt8(0xFE))
        writer.write(UInt16.max - 1)
        writer.write(UInt32(0xDEAD_BEEF))
        writer.write(UInt64.max)
        try writer.writeShortString("héllo")
        var reader = ByteReader(writer.bytes)
        #expect(try reader.readUInt8() == 0xFE)
        #expect(try reader.readUInt16() == UInt16.max - 1)
        #expect(try reader.readUInt32() == 0xDEAD_BEEF)
        #expect(try reader.readUInt64() == UInt64.max)
        #expect(try reader.readShortString() == "héllo")
        #expect(reader.isAtEnd)
        try reader.expectEnd()
    }

    @Test func reader_everyTruncation_throwsTruncated() throws {
        var writer = ByteWriter()
        writer.write(UInt64(42))
        writer.write(UInt32(7))
        try writer.writeShortString("abc")
        let full = writer.bytes
        for cut in 0..<full.count {
            var reader = ByteReader(Array(full[..<cut]))
            #expect(throws: WireError.self) {
                _ = try reader.readUInt64()
                _ = try reader.readUInt32()
                _ = try reader.readShortString()
            }
        }
    }

    @Test func reader_truncated_reportsOffsetAndShortfall() {
        var reader = ByteReader([1, 2, 3])
        #expect(throws: WireError.truncated(offset: 0, needed: 5)) { try reader.readUInt64() }
        #expect(throws: WireError.truncated(offset: 0, needed: 1)) { try reader.readBytes(4) }
    }

    @Test func reader_countAboveMaximum_throwsLengthTooLarge() {
        var reader = ByteReader([9, 0, 0])
        #expect(throws: WireError.lengthTooLarge(offset: 0, length: 9, maximum: 8)) {
            try reader.readCount(maximum: 8)
        }
    }

    @Test func reader_invalidUTF8_throwsInvalidString() {
        var reader = ByteReader([2, 0xC3, 0x28])
        #expect(throws: WireError.invalidString(offset: 0)) { try reader.readShortString() }
        var empty = ByteReader([0])
        #expect(throws: WireError.invalidString(offset: 0)) { try empty.readShortString(allowEmpty: false) }
    }

    @Test func reader_trailingBytes_detected() throws {
        var reader = ByteReader([1, 2])
        _ = try reader.readUInt8()
        #expect(throws: WireError.trailingBytes(count: 1)) { try reader.expectEnd() }
    }

    @Test func reader_slice_offsetsCountFromSliceStart() throws {
        let bytes: [UInt8] = [0xAA, 0xBB, 0x00, 0x05]
        var reader = ByteReader(bytes[2...])
        #expect(try reader.readUInt16() == 5)
        #expect(reader.offset == 2)
    }

    @Test func writer_stringTooLong_isUnencodable() {
        var writer = ByteWriter()
        #expect(throws: WireError.self) { try writer.writeShortString(String(repeating: "x", count: 256)) }
        #expect(throws: WireError.self) { try writer.writeShortString("abcd", maximum: 3) }
        #expect(writer.count == 0)
    }

    @Test func header_roundTrip() throws {
        var writer = ByteWriter()
        DatagramHeader(type: .peerRecord).encode(into: &writer)
        #expect(writer.bytes == [DatagramHeader.currentVersion, MessageType.peerRecord.rawValue])
        var reader = ByteReader(writer.bytes)
        #expect(try DatagramHeader.decode(from: &reader) == DatagramHeader(type: .peerRecord))
    }

    @Test func header_unknownVersionOrType_isTypedError() {
        var badVersion = ByteReader([0x02, 0x01])
        #expect(throws: WireError.unsupportedVersion(2)) { try DatagramHeader.decode(from: &badVersion) }
        var badType = ByteReader([0x01, 0xEE])
        #expect(throws: WireError.unknownMessageType(0xEE)) { try DatagramHeader.decode(from: &badType) }
        var empty = ByteReader([])
        #expect(throws: WireError.truncated(offset: 0, needed: 1)) { try DatagramHeader.decode(from: &empty) }
    }

    @Test func header_everyByteValue_neverTraps() {
        for version in 0...255 {
            for type in 0...255 {
                var reader = ByteReader([UInt8(version), UInt8(type)])
                let decoded = try? DatagramHeader.decode(from: &reader)
                let known = version == 1 && MessageType(rawValue: UInt8(type)) != nil
                #expect((decoded != nil) == known)
            }
        }
    }
}
