/// A limit on how many routing contacts (or provider records) one network may hold in
/// one group: at most ``maximumPerSubnet`` per IPv4 `/24` or IPv6 `/64` (the prefix
/// lengths are settable), so that one attacker's addresses cannot fill a bucket or a
/// service's provider slots however many peer IDs it makes (S/Kademlia, libp2p's
/// diversity filter).
///
/// Loopback addresses (`127.0.0.0/8`, `::1`) are exempt: every peer on one host shares
/// them, as do the simulator's nodes, and an attacker on the same host has other means.
public struct AddressDiversity: Sendable, Equatable {
    /// The most entries per subnet in one group; `nil` means no limit.
    public var maximumPerSubnet: Int?
    /// The IPv4 prefix length that makes a subnet (0 to 32).
    public var ipv4PrefixLength: Int
    /// The IPv6 prefix length that makes a subnet (0 to 128).
    public var ipv6PrefixLength: Int

    /// A limit of `maximumPerSubnet` per `/ipv4PrefixLength` and `/ipv6PrefixLength`.
    public init(maximumPerSubnet: Int?, ipv4PrefixLength: Int = 24, ipv6PrefixLength: Int = 64) {
        self.maximumPerSubnet = maximumPerSubnet.map { max(1, $0) }
        self.ipv4PrefixLength = min(32, max(0, ipv4PrefixLength))
        self.ipv6PrefixLength = min(128, max(0, ipv6PrefixLength))
    }

    /// No limit.
    public static let unlimited = AddressDiversity(maximumPerSubnet: nil)

    /// The subnet of `address` as a comparable value, or `nil` when it is exempt
    /// (loopback) or there is no limit.
    public func subnet(of address: PeerAddress) -> PeerAddress.Host? {
        guard maximumPerSubnet != nil, !address.isLoopback else { return nil }
        switch address.host {
        case .ipv4(let value):
            return .ipv4(value & Self.mask32(ipv4PrefixLength))
        case .ipv6(let high, let low):
            return .ipv6(
                high: high & Self.mask64(min(64, ipv6PrefixLength)),
                low: low & Self.mask64(max(0, ipv6PrefixLength - 64)))
        }
    }

    /// The 32-bit mask of the first `bits` bits.
    static func mask32(_ bits: Int) -> UInt32 {
        bits <= 0 ? 0 : (bits >= 32 ? .max : ~(UInt32.max >> UInt32(bits)))
    }

    /// The 64-bit mask of the first `bits` bits.
    static func mask64(_ bits: Int) -> UInt64 {
        bits <= 0 ? 0 : (bits >= 64 ? .max : ~(UInt64.max >> UInt64(bits)))
    }

    /// Whether one more entry at `address` fits beside `others` (the group's current
    /// addresses).
    public func admits(_ address: PeerAddress, among others: some Sequence<PeerAddress>) -> Bool {
        guard let limit = maximumPerSubnet, let subnet = subnet(of: address) else { return true }
        var count = 0
        for other in others where self.subnet(of: other) == subnet {
            count += 1
            if count >= limit { return false }
        }
        return true
    }
}
