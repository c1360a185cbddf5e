public import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension GroupSocket {
    /// Joins the multicast `group` on `interface` for datagrams from `source` only: a
    /// source-specific join (SSM, RFC 4607), MCAST_JOIN_SOURCE_GROUP (RFC 3678).
    ///
    /// The kernel announces the join with an IGMPv3 (IPv4) or MLDv2 (IPv6) report that
    /// names the source, so a snooping switch or a router forwards only that source's
    /// traffic, and it drops the group's datagrams from other sources before this socket
    /// sees them. The source-specific ranges are 232.0.0.0/8 and ff3x::/32
    /// (`SocketAddress.isSourceSpecificMulticast`); the kernel also accepts a
    /// source filter on other groups, so this call does not insist on them.
    ///
    /// - Parameters:
    ///   - group: the group address (its port is ignored).
    ///   - source: the unicast address of the one sender to receive from (port ignored).
    ///   - interface: the interface to join on; see ``InterfaceSelection/interface(named:)``.
    /// - Throws: ``UDPError`` for a non-group address, a source that is not a unicast
    ///   address of the group's family, an address family that differs from the socket's, or
    ///   an interface without multicast; NIO's errors when the kernel refuses.
    public func join(_ group: SocketAddress, source: SocketAddress, on interface: NetworkInterface) async throws {
        let request = try sourceGroupRequest(group, source: source, on: interface)
        try await setSourceGroupOption(CInt(MCAST_JOIN_SOURCE_GROUP), request)
    }

    /// Leaves a source-specific membership made with ``join(_:source:on:)``.
    ///
    /// - Parameters:
    ///   - group: the group address.
    ///   - source: the source it was joined for.
    ///   - interface: the interface it was joined on.
    /// - Throws: as ``join(_:source:on:)``; the kernel refuses to leave a membership not held.
    public func leave(_ group: SocketAddress, source: SocketAddress, on interface: NetworkInterface) async throws {
        let request = try sourceGroupRequest(group, source: source, on: interface)
        try await setSourceGroupOption(CInt(MCAST_LEAVE_SOURCE_GROUP), request)
    }

    // MARK: - Internals

    /// Checks the addresses and builds the `group_source_req` both calls pass.
    private func sourceGroupRequest(
        _ group: SocketAddress, source: SocketAddress, on interface: NetworkInterface
    ) throws -> group_source_req {
        guard group.isMulticast else { throw UDPError.notMulticastAddress(group) }
        guard group.protocol == localAddress.protocol else {
            throw UDPError.addressFamilyMismatch(socket: localAddress, other: group)
        }
        guard source.protocol == group.protocol else {
            throw UDPError.addressFamilyMismatch(socket: localAddress, other: source)
        }
        guard source.isUnicastHost else { throw UDPError.notUnicastSource(source) }
        guard interface.supportsMulticast else {
            throw UDPError.interfaceNotMulticastCapable(interface: interface.name)
        }
        var request = group_source_req()
        request.gsr_interface = UInt32(interface.index)
        Self.copy(group, into: &request.gsr_group)
        Self.copy(source, into: &request.gsr_source)
        return request
    }

    /// Sets the protocol-independent source membership option at the socket family's level.
    ///
    /// Not public and not inlinable: NIO asks that `unsafeSetSocketOption` with a C
    /// struct be called from such a function (see NIOCore's SocketOptionProvider.swift).
    private func setSourceGroupOption(_ name: CInt, _ request: group_source_req) async throws {
        let level: NIOBSDSocket.OptionLevel = localAddress.protocol == .inet6 ? .ipv6 : .ip
        try await optionProvider().unsafeSetSocketOption(
            level: level, name: NIOBSDSocket.Option(rawValue: name), value: request
        ).get()
    }

    /// Copies the raw `sockaddr_in` or `sockaddr_in6` of `address` into a `sockaddr_storage`.
    private static func copy(_ address: SocketAddress, into storage: inout sockaddr_storage) {
        address.withSockAddr { pointer, size in
            withUnsafeMutableBytes(of: &storage) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: min(size, target.count)))
            }
        }
    }
}
