import NIOCore
import NIOPosix
import StarlingCore
import StarlingIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Peer {
    /// Starts LAN acceleration of groups when configured: runs the channel's socket
    /// (opened by ``GroupLANSockets/open(_:listenAddress:namespace:)``) on the peer's
    /// event loop, makes the peer's own socket multicast through the interface, and turns
    /// the overlay's LAN channel on.
    /// - Parameters:
    ///   - configuration: the peer's configuration (``PeerConfiguration/groupLAN``).
    ///   - opened: the channel's socket, nil when not configured; NIO owns it from here.
    ///   - address: the peer's bound address (the multicast's source).
    ///   - channel: the peer's own UDP channel.
    ///   - loop: the peer's loop-side state.
    /// - Returns: the channel's NIO channel, or nil when not configured.
    /// - Throws: ``PeerError/invalidConfiguration(_:)`` for a missing or unsuitable
    ///   interface; ``PeerError/bindFailed(address:reason:)`` when a socket call fails.
    static func startGroupLAN(
        _ configuration: PeerConfiguration, _ opened: GroupLANSockets.Opened?, at address: PeerAddress,
        on channel: any Channel, _ loop: NIOLoopBound<PeerLoop>
    ) async throws(PeerError) -> (any Channel)? {
        guard let lan = configuration.groupLAN, let opened else { return nil }
        let eventLoop = loop.eventLoop
        let reader: any Channel
        do {
            reader = try await DatagramBootstrap(group: eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(GroupChannelReader(loop: loop))
                    }
                }
                .withBoundSocket(opened.descriptor).get()
        } catch {
            throw .bindFailed(address: lan.channel, reason: "\(error)")
        }
        do {
            try await multicast(from: channel, address: address, lan, interfaceIndex: opened.interfaceIndex)
        } catch {
            try? await reader.close()
            throw .bindFailed(address: address, reason: "setting its multicast options: \(error)")
        }
        let group = lan.channel
        try? await eventLoop.submit {
            _ = try? loop.value.performOverlay { overlay, now in overlay.setGroupLANChannel(group, now: now) }
        }.get()
        return reader
    }

    /// Makes IP multicast from the peer's socket leave through the interface, within the
    /// hop limit, looped back to this host or not.
    private static func multicast(
        from channel: any Channel, address: PeerAddress, _ lan: GroupLANConfiguration, interfaceIndex: Int
    ) async throws {
        guard let provider = channel as? any SocketOptionProvider else {
            throw PeerError.bindFailed(address: address, reason: "the channel has no socket options")
        }
        switch address.host {
        case .ipv4(let local):
            try await provider.setIPMulticastIF(in_addr(s_addr: local.bigEndian)).get()
            try await provider.setIPMulticastTTL(CUnsignedChar(lan.hopLimit)).get()
            try await provider.setIPMulticastLoop(lan.loopback ? 1 : 0).get()
        case .ipv6:
            try await provider.setIPv6MulticastIF(CUnsignedInt(interfaceIndex)).get()
            try await provider.setIPv6MulticastHops(CInt(lan.hopLimit)).get()
            try await provider.setIPv6MulticastLoop(lan.loopback ? 1 : 0).get()
        }
    }
}

/// Feeds what arrives on the LAN group channel's socket to the peer's core; on the
/// peer's event loop (the channel runs there).
final class GroupChannelReader: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let loop: NIOLoopBound<PeerLoop>

    init(loop: NIOLoopBound<PeerLoop>) {
        self.loop = loop
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let source = PeerAddress(envelope.remoteAddress) else { return }
        loop.value.handleGroupChannelDatagram(envelope.data, from: source)
    }
}

extension PeerLoop {
    /// Hands the core a datagram that arrived on the LAN group channel, then sends what
    /// it queued.
    func handleGroupChannelDatagram(_ datagram: ByteBuffer, from source: PeerAddress) {
        guard !isShutDown, let driver else { return }
        driver.perform { core, now in
            datagram.withUnsafeReadableBytes { bytes in
                _ = core.withOverlay { $0.handleGroupChannelDatagram(bytes, from: source, now: now) }
            }
        }
    }
}
