public import NIOCore

extension SocketAddress {
    /// Whether this is a source-specific multicast group: 232.0.0.0/8 (IPv4, RFC 4607 §1)
    /// or ff3x::/32 (IPv6: flags P and T set, prefix length 0; RFC 3306 §6, RFC 4607 §1).
    ///
    /// Receivers of such a group join it for named sources (``GroupSocket/join(_:source:on:)``);
    /// routers forward it only from those sources.
    public var isSourceSpecificMulticast: Bool {
        switch self {
        case .v4(let address):
            return UInt32(bigEndian: address.address.sin_addr.s_addr) >> 24 == 232
        case .v6(let address):
            return withUnsafeBytes(of: address.address.sin6_addr) { bytes in
                bytes[0] == 0xff && bytes[1] >> 4 == 0x3 && bytes[2] == 0 && bytes[3] == 0
            }
        case .unixDomainSocket:
            return false
        }
    }

    /// Whether this is an IP address that one host can send from: not the unspecified
    /// address, not a multicast group, and (IPv4) not the limited broadcast.
    public var isUnicastHost: Bool {
        switch self {
        case .v4(let address):
            let value = UInt32(bigEndian: address.address.sin_addr.s_addr)
            return value != 0 && value != .max && !isMulticast
        case .v6(let address):
            let unspecified = withUnsafeBytes(of: address.address.sin6_addr) { $0.allSatisfy { $0 == 0 } }
            return !unspecified && !isMulticast
        case .unixDomainSocket:
            return false
        }
    }
}
