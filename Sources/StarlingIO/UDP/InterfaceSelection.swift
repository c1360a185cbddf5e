public import NIOCore
import StarlingCore

/// A network interface, with the addresses it carries.
///
/// One interface appears in `getifaddrs(3)` once per address; a
/// `NetworkInterface` gathers those entries under the interface's name.
/// Obtain one with ``InterfaceSelection/interface(named:)``.
public struct NetworkInterface: Sendable {
    /// One address assigned to the interface.
    public struct Address: Sendable {
        /// The address (port 0).
        public let address: SocketAddress
        /// Its netmask, if the system reports one.
        public let netmask: SocketAddress?
        /// The NIO device entry for this address, used to join groups.
        let device: NIONetworkDevice
    }

    /// The interface's name, for example `eth0`.
    public let name: String
    /// The kernel's interface index.
    public let index: Int
    /// Whether the interface has the MULTICAST flag.
    public let supportsMulticast: Bool
    /// Its IPv4 and IPv6 addresses, in the order the system lists them.
    public let addresses: [Address]

    /// The first IPv4 address, if any.
    public var ipv4: Address? {
        addresses.first { if case .v4 = $0.address { true } else { false } }
    }

    /// The first IPv6 address, if any.
    public var ipv6: Address? {
        addresses.first { if case .v6 = $0.address { true } else { false } }
    }

    /// The directed broadcast address of the interface's first IPv4 subnet.
    ///
    /// - Parameter port: the port to put in the returned address.
    /// - Returns: for 192.0.2.10/24, `192.0.2.255:port`.
    /// - Throws: ``UDPError/interfaceHasNoIPv4Address(interface:)`` or
    ///   ``UDPError/interfaceHasNoBroadcast(interface:)``.
    public func directedBroadcast(port: Int) throws -> SocketAddress {
        guard let ipv4 else { throw UDPError.interfaceHasNoIPv4Address(interface: name) }
        guard let netmask = ipv4.netmask,
            let broadcast = InterfaceSelection.directedBroadcast(address: ipv4.address, netmask: netmask, port: port)
        else { throw UDPError.interfaceHasNoBroadcast(interface: name) }
        return broadcast
    }
}

/// Finds the network interface a user names, and computes broadcast addresses.
///
/// Starling never picks an interface by itself: a multicast join or a
/// broadcast on the wrong interface sends traffic onto a network the user did
/// not mean. Every operation that needs an interface takes its name.
public enum InterfaceSelection {
    /// Looks up the interface called `name` on this machine (in this network namespace).
    ///
    /// - Parameter name: the interface's name, for example `eth0`.
    /// - Returns: the interface with all its addresses.
    /// - Throws: ``UDPError/interfaceNotFound(name:available:)`` or
    ///   ``UDPError/enumerationFailed(reason:)``.
    public static func interface(named name: String) throws -> NetworkInterface {
        let devices: [NIONetworkDevice]
        do {
            devices = try System.enumerateDevices()
        } catch {
            throw UDPError.enumerationFailed(reason: "\(error)")
        }
        return try interface(named: name, among: devices)
    }

    /// Picks the interface called `name` out of `devices` (the pure half of ``interface(named:)``).
    ///
    /// - Parameters:
    ///   - name: the interface's name.
    ///   - devices: device entries as `System.enumerateDevices()` returns them.
    /// - Returns: the interface with the addresses of all its IPv4 and IPv6 entries.
    /// - Throws: ``UDPError/interfaceNotFound(name:available:)``.
    public static func interface(named name: String, among devices: [NIONetworkDevice]) throws -> NetworkInterface {
        let entries = devices.filter { $0.name == name }
        guard let first = entries.first else {
            var seen: Set<String> = []
            let available = devices.map(\.name).filter { seen.insert($0).inserted }
            throw UDPError.interfaceNotFound(name: name, available: available)
        }
        let addresses = entries.compactMap { device -> NetworkInterface.Address? in
            switch device.address {
            case .some(let address) where address.protocol == .inet || address.protocol == .inet6:
                NetworkInterface.Address(address: address, netmask: device.netmask, device: device)
            default:
                nil
            }
        }
        return NetworkInterface(
            name: name,
            index: first.interfaceIndex,
            supportsMulticast: entries.contains(where: \.multicastSupported),
            addresses: addresses
        )
    }

    /// The directed broadcast address of the IPv4 subnet that `address` lies in.
    ///
    /// The host bits of the address are all set: `(address & netmask) | ~netmask`
    /// (RFC 919, RFC 922). Both values are in host byte order.
    ///
    /// - Parameters:
    ///   - address: an IPv4 address on the subnet.
    ///   - netmask: the subnet mask.
    /// - Returns: the broadcast address, or nil when the subnet has none: a mask
    ///   that is not a contiguous prefix, a /0 (which would be the limited
    ///   broadcast 255.255.255.255), a /31 (RFC 3021 point-to-point) or a /32.
    public static func directedBroadcast(address: UInt32, netmask: UInt32) -> UInt32? {
        let prefixLength = (~netmask).leadingZeroBitCount
        guard netmask.nonzeroBitCount == prefixLength, (1...30).contains(prefixLength) else { return nil }
        return (address & netmask) | ~netmask
    }

    /// The directed broadcast address of the IPv4 subnet that `address` lies in, as a socket address.
    ///
    /// - Parameters:
    ///   - address: an IPv4 address on the subnet.
    ///   - netmask: the subnet mask, as an IPv4 address.
    ///   - port: the port to put in the result.
    /// - Returns: the broadcast address, or nil for IPv6 input or a subnet without one
    ///   (see ``directedBroadcast(address:netmask:)``).
    public static func directedBroadcast(address: SocketAddress, netmask: SocketAddress, port: Int) -> SocketAddress? {
        guard case .v4(let host) = address, case .v4(let mask) = netmask,
            let broadcast = directedBroadcast(
                address: UInt32(bigEndian: host.address.sin_addr.s_addr),
                netmask: UInt32(bigEndian: mask.address.sin_addr.s_addr)
            )
        else { return nil }
        return try? SocketAddress(ipAddress: PeerAddress.Host.ipv4(broadcast).description, port: port)
    }
}
