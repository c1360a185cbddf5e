/// The two bytes that open every Starling datagram: protocol version, then type.
///
/// ```
/// 0        1        2
/// +--------+--------+------------------
/// | version|  type  |  message body ...
/// +--------+--------+------------------
/// ```
public struct DatagramHeader: Equatable, Sendable {
    /// The protocol version this build speaks.
    public static let currentVersion: UInt8 = 1
    /// Size of the header in bytes.
    public static let size = 2

    /// The protocol version byte.
    public var version: UInt8
    /// What the body holds.
    public var type: MessageType

    /// Creates a header of the current version.
    public init(type: MessageType) {
        self.version = Self.currentVersion
        self.type = type
    }

    /// Appends the header to `writer`.
    public func encode(into writer: inout ByteWriter) {
        writer.write(version)
        writer.write(type.rawValue)
    }

    /// Reads and checks a header.
    /// - Throws: ``WireError/unsupportedVersion(_:)`` for any version but
    ///   ``currentVersion``, ``WireError/unknownMessageType(_:)`` for an unknown type,
    ///   or ``WireError/truncated(offset:needed:)`` when fewer than two bytes are there.
    public static func decode(from reader: inout ByteReader) throws(WireError) -> DatagramHeader {
        let version = try reader.readUInt8()
        guard version == currentVersion else { throw .unsupportedVersion(version) }
        let rawType = try reader.readUInt8()
        guard let type = MessageType(rawValue: rawType) else { throw .unknownMessageType(rawType) }
        return DatagramHeader(type: type)
    }
}
