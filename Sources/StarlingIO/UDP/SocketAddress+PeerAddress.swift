public import NIOCore
public import StarlingCore

extension SocketAddress {
    /// The NIO socket address for a Starling ``StarlingCore/PeerAddress``.
    ///
    /// - Parameter address: an IPv4 or IPv6 address with a port.
    /// - Throws: NIO's `SocketAddressError` if the address cannot be represented (never for a parsed address).
    public init(_ address: PeerAddress) throws {
        try self.init(ipAddress: address.host.description, port: Int(address.port))
    }
}

extension PeerAddress {
    /// The Starling form of an IPv4 or IPv6 socket address.
    ///
    /// - Parameter address: a socket address; a UNIX domain address has no Starling form.
    /// - Returns: nil for a UNIX domain address.
    public init?(_ address: SocketAddress) {
        guard let ip = address.ipAddress, let port = address.port, let host = Host(ip),
            let port16 = UInt16(exactly: port)
        else { return nil }
        self.init(host: host, port: port16)
    }
}
