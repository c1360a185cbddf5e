public import StarlingCore

/// LAN acceleration of overlay multicast groups: members on one LAN segment receive a
/// group's message through one IP multicast datagram instead of a unicast copy each.
///
/// ### Purpose
/// With it, a ``Peer`` joins an IP multicast group (the LAN group channel) on the
/// interface named here, reports the overlay groups it has joined there, and a member
/// that has a message of a group sends it there once when a LAN-mate is in the group;
/// members off the segment still get it over the overlay. The multicast leaves from the
/// peer's own socket, so its source is the peer's overlay address, which receivers check.
///
/// It is off unless a caller sets ``PeerConfiguration/groupLAN``: there is no default
/// interface, because multicast on the wrong interface sends traffic onto a network the
/// user did not mean. Every peer of one segment must use the same channel and port.
///
/// ### Usage
/// ```swift
/// var configuration = PeerConfiguration()
/// configuration.listenAddress = try PeerAddress("192.168.1.20:7946")  // an address on enp3s0
/// configuration.overlay = .lan
/// configuration.groupLAN = GroupLANConfiguration(interface: "enp3s0")
/// ```
public struct GroupLANConfiguration: Sendable, Equatable {
    /// The default channel: an organisation-local IPv4 group (RFC 2365, `239.255.0.0/16`),
    /// which routers at the site's edge never forward.
    public static let defaultChannel = PeerAddress.ipv4(239, 255, 83, 1, port: 7_947)

    /// The name of the network interface to multicast on and receive the channel on, for
    /// example `enp3s0`. Required: Starling never picks one itself. It must have the
    /// MULTICAST flag, and the peer's ``PeerConfiguration/listenAddress`` must be one of
    /// its addresses (the multicast's source, which receivers check).
    public var interface: String

    /// The LAN group channel: an IPv4 (`224.0.0.0/4`) or IPv6 (`ff00::/8`) multicast
    /// group and the UDP port it is received on. Of the listen address's family. Default
    /// ``defaultChannel``.
    public var channel: PeerAddress

    /// How many routers a channel datagram may cross (IPv4 TTL, IPv6 hop limit). The
    /// default, 1, keeps it on the local segment, which is what LAN acceleration is for:
    /// members elsewhere get the message over the overlay anyway. Higher reaches
    /// subnets behind multicast routers, and hosts that did not ask for it.
    public var hopLimit: UInt8 = 1

    /// Whether channel datagrams come back to this host's own sockets. On (the default),
    /// several peers of one host receive each other's multicasts; each peer drops its
    /// own. Off saves one copy per datagram on a host with one peer.
    public var loopback = true

    /// Creates a configuration for `interface`.
    /// - Parameters:
    ///   - interface: the network interface's name.
    ///   - channel: the multicast group and port; default ``defaultChannel``.
    public init(interface: String, channel: PeerAddress = GroupLANConfiguration.defaultChannel) {
        self.interface = interface
        self.channel = channel
    }

    /// Checks what can be checked without the network: an interface name, a multicast
    /// channel with a port, a hop limit.
    /// - Throws: ``PeerError/invalidConfiguration(_:)`` naming the bad setting.
    public func validate() throws(PeerError) {
        guard !interface.isEmpty else {
            throw .invalidConfiguration("groupLAN: no network interface chosen: name the interface to multicast on")
        }
        guard channel.isMulticast else {
            throw .invalidConfiguration(
                "groupLAN: the channel \(channel) is not a multicast group (224.0.0.0/4 or ff00::/8)")
        }
        guard channel.port != 0 else { throw .invalidConfiguration("groupLAN: the channel's port must not be 0") }
        guard hopLimit > 0 else { throw .invalidConfiguration("groupLAN: hopLimit must be at least 1") }
    }
}

extension PeerAddress {
    /// Whether the host is an IPv4 (`224.0.0.0/4`) or IPv6 (`ff00::/8`) multicast group.
    var isMulticast: Bool {
        switch host {
        case .ipv4(let value): value >> 28 == 0xE
        case .ipv6(let high, _): high >> 56 == 0xFF
        }
    }

    /// Whether the host is an IPv4 address.
    var isIPv4: Bool {
        if case .ipv4 = host { true } else { false }
    }
}
