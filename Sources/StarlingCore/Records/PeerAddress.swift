internal import Glibc

/// An IPv4 or IPv6 address with a UDP/TCP port, as carried in records.
///
/// Text forms: `127.0.0.1:4000` and `[::1]:4000`.
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    /// The IP part.
    public enum Host: Hashable, Sendable {
        /// Four address bytes, network order.
        case ipv4(UInt32)
        /// Sixteen address bytes, network order, as two big-endian halves.
        case ipv6(high: UInt64, low: UInt64)
    }

    /// Why a text is not an address.
    public enum ParseError: Error, Equatable, Sendable {
        /// The text has no `:port` (IPv6 needs `[addr]:port`).
        case missingPort(String)
        /// The port is not a number from 0 to 65535.
        case invalidPort(String)
        /// The host part is not an IPv4 or IPv6 literal.
        case invalidHost(String)
    }

    /// The IP address.
    public var host: Host
    /// The port.
    public var port: UInt16

    /// Wraps a host and port.
    public init(host: Host, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Creates an IPv4 address from its four bytes.
    public static func ipv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) -> PeerAddress {
        PeerAddress(host: .ipv4(UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)), port: port)
    }

    /// Parses `a.b.c.d:port` or `[ipv6]:port`.
    /// - Throws: ``ParseError``.
    public init(_ text: String) throws(ParseError) {
        let hostText: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalidHost(text) }
            hostText = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .missingPort(text) }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .missingPort(text) }
            hostText = text[..<colon]
            portText = text[text.index(after: colon)...]
            if hostText.contains(":") { throw .invalidHost("\(text) (write IPv6 as [addr]:port)") }
        }
        let digitsOnly = portText.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        guard digitsOnly, let port = UInt16(portText) else { throw .invalidPort(String(portText)) }
        guard let host = Host(String(hostText)) else { throw .invalidHost(String(hostText)) }
        self.init(host: host, port: port)
    }

    /// The raw address bytes in network order (4 or 16).
    public var hostBytes: [UInt8] {
        switch host {
        case .ipv4(let value): bigEndianBytes(UInt64(value), width: 4)
        case .ipv6(let high, let low): bigEndianBytes(high, width: 8) + bigEndianBytes(low, width: 8)
        }
    }

    /// Whether the host is in 127.0.0.0/8 or is ::1.
    public var isLoopback: Bool {
        switch host {
        case .ipv4(let value): value >> 24 == 127
        case .ipv6(let high, let low): high == 0 && low == 1
        }
    }

    /// Whether the host is 0.0.0.0 or `::` (any address: not one to tell others).
    public var isUnspecified: Bool {
        switch host {
        case .ipv4(let value): value == 0
        case .ipv6(let high, let low): high == 0 && low == 0
        }
    }

    public var description: String {
        switch host {
        case .ipv4: "\(host):\(port)"
        case .ipv6: "[\(host)]:\(port)"
        }
    }
}

extension PeerAddress.Host: CustomStringConvertible {
    /// Parses an IPv4 or IPv6 literal (no brackets, no port).
    public init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .ipv4(UInt32(bigEndian: v4.s_addr))
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            let bytes = withUnsafeBytes(of: &v6) { Array($0) }
            self = .ipv6(
                high: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) },
                low: bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
        } else {
            return nil
        }
    }

    /// The conventional text form (`inet_ntop`).
    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch self {
        case .ipv4(let value):
            var address = in_addr(s_addr: value.bigEndian)
            _ = inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count))
        case .ipv6:
            var address = in6_addr()
            let bytes = PeerAddress(host: self, port: 0).hostBytes
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
            _ = inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

private func bigEndianBytes(_ value: UInt64, width: Int) -> [UInt8] {
    (0..<width).map { UInt8(truncatingIfNeeded: value >> UInt64((width - 1 - $0) * 8)) }
}

extension PeerAddress.ParseError: CustomStringConvertible {
    /// A sentence for people.
    public var description: String {
        switch self {
        case .missingPort(let text): "\"\(text)\" has no port (write 127.0.0.1:4000 or [::1]:4000)"
        case .invalidPort(let text): "\"\(text)\" is not a port number from 0 to 65535"
        case .invalidHost(let text): "\"\(text)\" is not an IPv4 or IPv6 address (names are not resolved here)"
        }
    }
}
