import NIOCore
import StarlingCore
import StarlingIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One named interface as ``MDNSDiscovery`` runs on it: its index, the families it
/// has addresses of (among those chosen), and those addresses.
struct MDNSLinkInfo: Sendable, Equatable {
    let name: String
    let index: Int
    let families: Set<MDNSFamily>
    let addresses: [PeerAddress.Host]
    /// Whether the interface is up with a carrier (`IFF_UP` and `IFF_RUNNING`).
    let isUp: Bool
}

/// Reads the named interfaces' addresses, in a network namespace when one is set (on a
/// short-lived thread that enters it).
enum MDNSLinkLookup {
    /// Looks every interface of `names` up.
    ///
    /// - Returns: one entry per name, in order.
    /// - Throws: ``MDNSDiscoveryError/interfaceNotFound(name:available:)``,
    ///   ``MDNSDiscoveryError/interfaceUnsuitable(interface:reason:)`` (no MULTICAST flag, or no
    ///   address of any chosen family) or ``MDNSDiscoveryError/socket(operation:reason:)``.
    static func lookUp(
        _ names: [String], families: Set<MDNSFamily>, namespace: String?
    ) async throws(MDNSDiscoveryError) -> [MDNSLinkInfo] {
        try await NamespaceThread.run(in: namespace, failure: { .socket(operation: $0, reason: $1) }) {
            () throws(MDNSDiscoveryError) in try lookUpHere(names, families: families)
        }
    }

    /// Looks the interfaces up in this thread's namespace. IPv6 addresses still in
    /// duplicate address detection, or that failed it, are left out: nothing may be
    /// sent from or to them yet (RFC 4862, 5.4), and one that fails would have been
    /// announced for nothing. The next interface check picks them up once usable.
    static func lookUpHere(_ names: [String], families: Set<MDNSFamily>) throws(MDNSDiscoveryError) -> [MDNSLinkInfo] {
        let unusable = families.contains(.ipv6) ? unusableIPv6Addresses() : []
        var links: [MDNSLinkInfo] = []
        for name in names {
            let interface: NetworkInterface
            do throws(MDNSSocketsError) {
                interface = try MDNSSocketOpener.lookUp(name)
            } catch {
                throw MDNSDiscoveryError(error)
            }
            guard interface.supportsMulticast else {
                throw .interfaceUnsuitable(interface: name, reason: "it does not support multicast (no MULTICAST flag)")
            }
            var addresses: [PeerAddress.Host] = []
            var found: Set<MDNSFamily> = []
            for address in interface.addresses {
                guard let peer = PeerAddress(address.address), !unusable.contains(peer.host) else { continue }
                let family: MDNSFamily = if case .ipv4 = peer.host { .ipv4 } else { .ipv6 }
                guard families.contains(family) else { continue }
                found.insert(family)
                if !addresses.contains(peer.host) { addresses.append(peer.host) }
            }
            guard !found.isEmpty else {
                let wanted = families.map(\.description).sorted().joined(separator: " or ")
                throw .interfaceUnsuitable(interface: name, reason: "it has no \(wanted) address")
            }
            links.append(
                MDNSLinkInfo(
                    name: name, index: interface.index, families: found, addresses: addresses,
                    isUp: isRunning(name)))
        }
        return links
    }

    /// `IFA_F_TENTATIVE` and `IFA_F_DADFAILED` (linux/if_addr.h).
    static let tentativeOrFailed: UInt32 = 0x40 | 0x08

    /// The IPv6 addresses of this thread's namespace that are tentative or failed
    /// duplicate address detection, from `/proc/thread-self/net/if_inet6`; none when it
    /// cannot be read.
    static func unusableIPv6Addresses() -> Set<PeerAddress.Host> {
        guard let file = fopen("/proc/thread-self/net/if_inet6", "r") else { return [] }
        defer { fclose(file) }
        var unusable: Set<PeerAddress.Host> = []
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let host = unusableAddress(inLine: text) { unusable.insert(host) }
        }
        return unusable
    }

    /// The address of one `if_inet6` line (`address index prefix scope flags name`, in
    /// hexadecimal) when its flags say tentative or failed.
    static func unusableAddress(inLine line: String) -> PeerAddress.Host? {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 6, fields[0].count == 32, let flags = UInt32(fields[4], radix: 16),
            flags & tentativeOrFailed != 0, let high = UInt64(fields[0].prefix(16), radix: 16),
            let low = UInt64(fields[0].suffix(16), radix: 16)
        else { return nil }
        return .ipv6(high: high, low: low)
    }

    /// `IFF_UP` and `IFF_RUNNING` (linux/if.h): administratively up, with a carrier.
    static let upAndRunning: UInt32 = 0x1 | 0x40

    /// Whether the interface called `name` is up and running in this thread's namespace;
    /// true when the system cannot tell.
    static func isRunning(_ name: String) -> Bool {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return true }
        defer { freeifaddrs(list) }
        var cursor = list
        while let entry = cursor {
            if let entryName = entry.pointee.ifa_name, String(cString: entryName) == name {
                return entry.pointee.ifa_flags & upAndRunning == upAndRunning
            }
            cursor = entry.pointee.ifa_next
        }
        return true
    }
}
