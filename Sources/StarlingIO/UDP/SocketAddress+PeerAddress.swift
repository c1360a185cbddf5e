public import NIOCore
public import StarlingCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SocketAddress {
    /// The NIO socket address for a Starling ``StarlingCore/PeerAddress``, built from the
    /// raw bytes (no text round trip: this runs for every datagram sent).
    ///
    /// - Parameter address: an IPv4 or IPv6 address with a port.
    public init(_ address: PeerAddress) {
        switch address.host {
        case .ipv4(let value):
            var raw = sockaddr_in()
            raw.sin_family = sa_family_t(AF_INET)
            raw.sin_port = address.port.bigEndian
            raw.sin_addr = in_addr(s_addr: value.bigEndian)
            self.init(raw, host: "")
        case .ipv6:
            var raw = sockaddr_in6()
            raw.sin6_family = sa_family_t(AF_INET6)
            raw.sin6_port = address.port.bigEndian
            let bytes = address.hostBytes
            withUnsafeMutableBytes(of: &raw.sin6_addr) { $0.copyBytes(from: bytes) }
            self.init(raw, host: "")
        }
    }
}

extension PeerAddress {
    /// The Starling form of an IPv4 or IPv6 socket address, read from the raw bytes.
    ///
    /// - Parameter address: a socket address; a UNIX domain address has no Starling form.
    /// - Returns: nil for a UNIX domain address.
    public init?(_ address: SocketAddress) {
        switch address {
        case .v4(let v4):
            let raw = v4.address
            self.init(host: .ipv4(UInt32(bigEndian: raw.sin_addr.s_addr)), port: UInt16(bigEndian: raw.sin_port))
        case .v6(let v6):
            let raw = v6.address
            let halves = withUnsafeBytes(of: raw.sin6_addr) { bytes in
                (
                    bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) },
                    bytes.suffix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                )
            }
            self.init(host: .ipv6(high: halves.0, low: halves.1), port: UInt16(bigEndian: raw.sin6_port))
        case .unixDomainSocket:
            return nil
        }
    }
}
