import Foundation
import NIOCore
import Starling
import StarlingTestSupport
import Synchronization
import Testing

/// ``MDNSSockets`` between the hosts of a ``NamespaceLab`` (two namespaces on a bridge,
/// `eth0` with 192.0.2.1x/24 and a fixed, DAD-free `fe80::1x`): every socket is opened
/// inside a host's namespace (``MDNSSocketsConfiguration/networkNamespace``), so every
/// mDNS datagram below stays in the lab.
@Suite(.requiresNetworkNamespaces, .serialized)
struct MDNSSocketsLabTests {
    /// Bounds a hang only; datagrams normally arrive within milliseconds.
    static let deadline = Duration.seconds(20)

    @Test(arguments: MDNSFamily.allCases)
    func mdnsSockets_multicast_arrivesWithInterfaceAndSourcePortAndLoopsBack(_ family: MDNSFamily) async throws {
        try await Self.withLab(hosts: 2) { lab, pool in
            let sender = try await pool.open(lab.hosts[0])
            let receiver = try await pool.open(lab.hosts[1])
            if family == .ipv6 {
                // ff02::fb is snooped by the bridge (224.0.0.251 is link-local, always flooded).
                try await lab.waitForGroupMembers("ff02::fb", lab.hosts)
            }
            let payload = "hello \(family)"
            let arrived = try await sender.sendUntilReceived(
                payload, to: .multicast(interface: "eth0", family: family), by: receiver)
            let expectedSource = family == .ipv4 ? lab.hosts[0].address : lab.hosts[0].ipv6LinkLocal
            #expect(arrived.endpoint == receiver.sockets.endpoints.first { $0.family == family })
            #expect(arrived.endpoint.interface.name == "eth0")
            #expect(arrived.source.port == 5353)
            #expect(arrived.source.ipAddress == expectedSource)
            #expect(arrived.isMulticast == true)
            #expect(arrived.destination?.ipAddress == (family == .ipv4 ? "224.0.0.251" : "ff02::fb"))
            // Multicast loop is on: the sender sees its own datagram too.
            let own = try await sender.inbox.first(within: Self.deadline) { $0.text == payload }
            #expect(own.endpoint.family == family)
            #expect(own.source.ipAddress == expectedSource)

            // A unicast reply to the datagram's source (for IPv6 a link-local address with
            // its scope) goes back from port 5353.
            let reply = "reply \(family)"
            let replied = try await receiver.sendUntilReceived(
                reply, to: .unicast(arrived.source, interface: "eth0"), by: sender)
            #expect(replied.isMulticast == false)
            #expect(replied.source.port == 5353)
            #expect(replied.source.ipAddress == (family == .ipv4 ? lab.hosts[1].address : lab.hosts[1].ipv6LinkLocal))
            #expect(sender.sockets.foreignInterfaceDrops == 0)
            #expect(receiver.sockets.foreignInterfaceDrops == 0)
        }
    }

    /// Traffic of an interface that was not named (here `lo`, given the MULTICAST flag)
    /// never reaches the sockets, while a socket that names it does get it.
    @Test func mdnsSockets_unnamedInterface_isNotDelivered() async throws {
        try await Self.withLab(hosts: 2) { lab, pool in
            let host = lab.hosts[1]
            try host.namespace.ip(["link", "set", "lo", "multicast", "on"])
            let named = try await pool.open(host, families: [.ipv4])
            let onLoopback = try await pool.open(host, interfaces: ["lo"], families: [.ipv4])
            let other = try await pool.open(lab.hosts[0], families: [.ipv4])

            // Sent on lo and looped back there: the lo socket receives it.
            let onLo = try await onLoopback.sendUntilReceived(
                "on lo", to: .multicast(interface: "lo", family: .ipv4), by: onLoopback)
            #expect(onLo.endpoint.interface.name == "lo")
            // Then a marker on eth0; once it is in, anything from lo would have been too.
            let marker = try await other.sendUntilReceived(
                "on eth0", to: .multicast(interface: "eth0", family: .ipv4), by: named)
            #expect(marker.endpoint.interface.name == "eth0")
            let seen = named.inbox.all
            #expect(!seen.isEmpty)
            #expect(seen.allSatisfy { $0.endpoint.interface.name == "eth0" && $0.text != "on lo" })
            #expect(!onLoopback.inbox.all.contains { $0.text == "on eth0" })
            #expect(named.sockets.foreignInterfaceDrops == 0)
        }
    }

    /// Two responders in one namespace share port 5353 (`SO_REUSEADDR` + `SO_REUSEPORT`),
    /// and multicast reaches both.
    @Test func mdnsSockets_twoInOneNamespace_bothBindAndBothReceive() async throws {
        try await Self.withLab(hosts: 2) { lab, pool in
            let first = try await pool.open(lab.hosts[1])
            let second = try await pool.open(lab.hosts[1])
            let sender = try await pool.open(lab.hosts[0])
            #expect(first.sockets.endpoints.count == 2)
            #expect(second.sockets.endpoints.count == 2)
            try await lab.waitForGroupMembers("ff02::fb", lab.hosts)
            for family in MDNSFamily.allCases {
                let payload = "to both \(family)"
                _ = try await sender.sendUntilReceived(
                    payload, to: .multicast(interface: "eth0", family: family), by: first)
                let other = try await second.inbox.first(within: Self.deadline) { $0.text == payload }
                #expect(other.endpoint.family == family)
            }
        }
    }

    /// An interface without the MULTICAST flag (a lab host's `lo`) or without an address
    /// of a chosen family is refused with a typed error, and nothing stays bound.
    @Test func mdnsSockets_unsuitableInterface_isRefused() async throws {
        try await Self.withLab(hosts: 1) { lab, pool in
            let host = lab.hosts[0]
            await #expect {
                _ = try await pool.open(host, interfaces: ["eth0", "lo"])
            } throws: { error in
                guard case MDNSSocketsError.interfaceUnsuitable(let name, let reason) = error else { return false }
                return name == "lo" && reason.contains("MULTICAST")
            }
            await #expect {
                _ = try await pool.open(host, interfaces: ["eth1"])
            } throws: { error in
                guard case MDNSSocketsError.interfaceNotFound(let name, let available) = error else { return false }
                return name == "eth1" && available.contains("eth0")
            }
            // A veth pair inside the host: MULTICAST, but no IPv4 address.
            try host.namespace.ip(["link", "add", "spare0", "type", "veth", "peer", "name", "spare1"])
            try host.namespace.ip(["link", "set", "spare0", "up"])
            await #expect {
                _ = try await pool.open(host, interfaces: ["spare0"], families: [.ipv4])
            } throws: { error in
                guard case MDNSSocketsError.interfaceUnsuitable("spare0", let reason) = error else { return false }
                return reason.contains("IPv4")
            }
            // The refusals left nothing bound: eth0 opens, and a second time too.
            let sockets = try await pool.open(host)
            await sockets.close()
            let again = try await pool.open(host)
            await again.close()
            await #expect(throws: MDNSSocketsError.closed) {
                try await again.sockets.send(ByteBuffer(), to: .multicast(interface: "eth0", family: .ipv4)).get()
            }
        }
    }
}

extension MDNSSocketsLabTests {
    /// Builds a lab of `hosts`, runs `body` with it and a pool of sockets, and closes
    /// every socket of the pool before the lab goes, even when `body` throws.
    static func withLab(
        hosts: Int, _ body: (NamespaceLab, LabSocketPool) async throws -> Void
    ) async throws {
        try await NamespaceLab.with(hosts: hosts) { lab in
            let pool = LabSocketPool()
            do {
                try await body(lab, pool)
            } catch {
                await pool.closeAll()
                throw error
            }
            await pool.closeAll()
        }
    }
}

/// Every ``LabSockets`` a test opened, to close them all at its end.
final class LabSocketPool: Sendable {
    private let opened = Mutex<[LabSockets]>([])

    /// Opens sockets on `interfaces` of `host` inside its namespace and keeps them.
    func open(
        _ host: NamespaceLab.Host, interfaces: [String] = ["eth0"], families: Set<MDNSFamily> = [.ipv4, .ipv6]
    ) async throws -> LabSockets {
        let sockets = try await LabSockets.open(host, interfaces: interfaces, families: families)
        opened.withLock { $0.append(sockets) }
        return sockets
    }

    func closeAll() async {
        for sockets in opened.withLock({ $0 }) { await sockets.close() }
    }
}

/// Mistakes refused before any socket exists; needs no namespace.
@Suite struct MDNSSocketsConfigurationTests {
    @Test func mdnsSocketsConfiguration_mistakes_areRefused() async {
        #expect(throws: MDNSSocketsError.noInterface) { try MDNSSocketsConfiguration(interfaces: []).validate() }
        #expect(throws: MDNSSocketsError.duplicateInterface("eth0")) {
            try MDNSSocketsConfiguration(interfaces: ["eth0", "eth1", "eth0"]).validate()
        }
        var configuration = MDNSSocketsConfiguration(interfaces: ["eth0"])
        configuration.families = []
        #expect(throws: MDNSSocketsError.noFamily) { try configuration.validate() }
        await #expect(throws: MDNSSocketsError.noInterface) {
            _ = try await MDNSSockets.open(MDNSSocketsConfiguration(interfaces: [])) { _ in }
        }
    }

    /// An unknown interface fails at the lookup, before any socket is opened.
    @Test func mdnsSockets_unknownInterface_failsBeforeOpening() async {
        await #expect {
            _ = try await MDNSSockets.open(MDNSSocketsConfiguration(interfaces: ["starling-none0"])) { _ in }
        } throws: { error in
            guard case MDNSSocketsError.interfaceNotFound(let name, _) = error else { return false }
            return name == "starling-none0"
        }
    }

    @Test func mdnsDatagram_isMulticast_followsTheDestination() throws {
        let endpoint = MDNSEndpoint(interface: MDNSInterface(name: "eth0", index: 2), family: .ipv4)
        let source = try SocketAddress(ipAddress: "192.0.2.10", port: 5353)
        func datagram(to destination: String?) throws -> MDNSDatagram {
            MDNSDatagram(
                bytes: ByteBuffer(), source: source,
                destination: try destination.map { try SocketAddress(ipAddress: $0, port: 5353) }, endpoint: endpoint)
        }
        #expect(try datagram(to: "224.0.0.251").isMulticast == true)
        #expect(try datagram(to: "ff02::fb").isMulticast == true)
        #expect(try datagram(to: "192.0.2.11").isMulticast == false)
        #expect(try datagram(to: "fe80::11").isMulticast == false)
        #expect(try datagram(to: nil).isMulticast == nil)
    }
}

/// One host's ``MDNSSockets`` and what they received.
struct LabSockets: Sendable {
    let sockets: MDNSSockets
    let inbox: DatagramInbox

    /// Opens sockets on `interfaces` of `host` inside its namespace.
    static func open(
        _ host: NamespaceLab.Host, interfaces: [String] = ["eth0"], families: Set<MDNSFamily> = [.ipv4, .ipv6]
    ) async throws -> LabSockets {
        var configuration = MDNSSocketsConfiguration(interfaces: interfaces)
        configuration.families = families
        configuration.networkNamespace = host.name
        let inbox = DatagramInbox()
        let sockets = try await MDNSSockets.open(configuration) { inbox.append($0) }
        return LabSockets(sockets: sockets, inbox: inbox)
    }

    /// Sends `text` to `destination` every 250 ms until `receiver` has it, and returns
    /// it as received; bounded by ``MDNSSocketsLabTests/deadline`` (UDP may lose one).
    func sendUntilReceived(
        _ text: String, to destination: MDNSDestination, by receiver: LabSockets
    ) async throws -> MDNSDatagram {
        let clock = ContinuousClock()
        let deadline = clock.now + MDNSSocketsLabTests.deadline
        while true {
            try await sockets.send(ByteBuffer(string: text), to: destination).get()
            if let datagram = try? await receiver.inbox.first(within: .milliseconds(250), where: { $0.text == text }) {
                return datagram
            }
            guard clock.now < deadline else {
                throw DatagramInbox.Timeout(
                    description: "'\(text)' to \(destination) did not arrive; received: "
                        + receiver.inbox.all.map { "\($0.text) from \($0.source) on \($0.endpoint)" }.joined(
                            separator: "; "))
            }
        }
    }

    func close() async {
        await sockets.close()
    }
}

/// The datagrams some sockets received, for waiting with a deadline.
final class DatagramInbox: Sendable {
    private let datagrams = Mutex<[MDNSDatagram]>([])

    struct Timeout: Error, CustomStringConvertible {
        let description: String
    }

    func append(_ datagram: MDNSDatagram) {
        datagrams.withLock { $0.append(datagram) }
    }

    var all: [MDNSDatagram] { datagrams.withLock { $0 } }

    /// The first datagram received so far or later that satisfies `predicate`, polled
    /// every 10 ms until `limit` passes.
    func first(
        within limit: Duration, where predicate: (MDNSDatagram) -> Bool
    ) async throws -> MDNSDatagram {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while true {
            if let found = all.first(where: predicate) { return found }
            guard clock.now < deadline else {
                throw Timeout(description: "no matching datagram within \(limit) (\(all.count) received)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

extension MDNSDatagram {
    /// The payload as text.
    var text: String { String(buffer: bytes) }
}
