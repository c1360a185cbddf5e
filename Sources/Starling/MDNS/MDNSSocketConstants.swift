/// The numbers ``MDNSSockets`` opens its sockets with.
public enum MDNSSocketConstants {
    // MARK: Specification

    /// The mDNS UDP port; queries and responses go to it, and responses must come from it.
    /// [RFC 6762 §3](https://www.rfc-editor.org/rfc/rfc6762#section-3).
    public static let port: UInt16 = 5353

    /// The IPv4 mDNS group, `224.0.0.251`, in host byte order.
    /// [RFC 6762 §3](https://www.rfc-editor.org/rfc/rfc6762#section-3).
    public static let ipv4Group: UInt32 = 0xE000_00FB

    /// The IPv6 mDNS group, `ff02::fb` (link-local scope), as 16 bytes.
    /// [RFC 6762 §3](https://www.rfc-editor.org/rfc/rfc6762#section-3).
    public static let ipv6Group: [UInt8] = [0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFB]

    /// The IPv4 TTL and IPv6 hop limit of every mDNS datagram sent; receivers may check it to
    /// refuse datagrams from off the link.
    /// [RFC 6762 §11](https://www.rfc-editor.org/rfc/rfc6762#section-11).
    public static let hopLimit: UInt8 = 255

    /// The largest mDNS message, IP and UDP headers included.
    /// [RFC 6762 §17](https://www.rfc-editor.org/rfc/rfc6762#section-17).
    public static let maximumMessageSize = 9_000

    // MARK: Implementation

    /// The receive buffer of each socket: the largest message plus room, so that a message
    /// over ``maximumMessageSize`` arrives whole (for the core to refuse) unless it exceeds
    /// this too, in which case it arrives truncated.
    static let receiveBufferSize = 9_216

    /// `IP_MULTICAST_ALL` (linux/in.h), not exported by every Glibc module map.
    static let ipMulticastAll: Int32 = 49

    /// `IPV6_MULTICAST_ALL` (linux/in6.h, Linux 4.20 and later).
    static let ipv6MulticastAll: Int32 = 29
}
