import Foundation
import Starling
import StarlingCore
import StarlingTestSupport
import Synchronization
import Testing

/// ``MDNSDiscovery`` between the hosts of a ``NamespaceLab`` (two namespaces on a bridge,
/// `eth0` with 192.0.2.1x/24 and `fe80::1x`): every discovery opens its sockets inside its
/// host's namespace (``MDNSDiscoveryConfiguration/networkNamespace``), so every mDNS
/// datagram below stays in the lab.
@Suite(.requiresNetworkNamespaces, .serialized)
struct MDNSDiscoveryLabTests {
    /// Bounds a hang only (slow machines); the outcome, not the time, is asserted.
    static let deadline = Duration.seconds(20)
    static let swarmID = [UInt8](repeating: 0x42, count: 32)

    /// (a) Two Starling hosts advertise `_starling._udp` and browse it: each resolves the
    /// other's instance with its port, both addresses (IPv4 and IPv6) and its TXT.
    @Test func mdnsDiscoveryLab_twoStarlingHosts_resolveEachOther() async throws {
        try await Self.withDiscoveries(hostNames: ["lab-a", "lab-b"]) { lab, discoveries in
            var random = TestRandom(seed: 13)
            let keys = (0..<2).map { _ in IdentityKeyPair.generate(using: &random) }
            let clock = ContinuousClock()
            let started = clock.now
            var recorders: [BrowseRecorder] = []
            for (index, discovery) in discoveries.enumerated() {
                let service = MDNSStarlingPeer.service(
                    instance: MDNSStarlingPeer.defaultInstance(for: keys[index].peerID), peerID: keys[index].peerID,
                    swarmID: Self.swarmID, port: UInt16(4100 + index))
                _ = try await discovery.advertise(service)
                recorders.append(BrowseRecorder(try await discovery.browse(MDNSStarlingPeer.serviceType)))
            }
            for index in 0..<2 {
                let other = 1 - index
                let host = lab.hosts[other]
                let found = try await recorders[index].waitForService(within: Self.deadline) { service in
                    guard let peer = MDNSStarlingPeer(service) else { return false }
                    return peer.peerID == keys[other].peerID && service.addresses.count >= 2
                }
                let elapsed = clock.now - started
                print("mdns lab: host \(index) resolved host \(other)'s _starling._udp instance after \(elapsed)")
                let peer = try #require(MDNSStarlingPeer(found))
                #expect(peer.swarmID == Self.swarmID)
                #expect(found.port == UInt16(4100 + other))
                #expect(found.host.description == "lab-\(other == 0 ? "a" : "b").local")
                #expect(found.instance == MDNSStarlingPeer.defaultInstance(for: keys[other].peerID))
                let texts = Set(found.addresses.map(\.description))
                #expect(texts.contains(host.address), "addresses \(texts)")
                #expect(texts.contains(host.ipv6LinkLocal), "addresses \(texts)")
                #expect(peer.addresses.contains(try PeerAddress("\(host.address):\(4100 + other)")))
            }
        }
    }

    /// (b) Two hosts advertise the same instance name: exactly one is renamed, and a
    /// third host's browser then resolves both names.
    @Test func mdnsDiscoveryLab_sameInstanceName_oneIsRenamedAndBothResolve() async throws {
        try await Self.withDiscoveries(hostNames: ["lab-a", "lab-b", "lab-c"]) { _, discoveries in
            let service = MDNSService(instance: "Twin", type: "_twin._udp", port: 5000, txt: [Array("k=v".utf8)])
            var recorders: [EventRecorderMDNS] = []
            var advertisements: [MDNSDiscovery.Advertisement] = []
            for discovery in discoveries.prefix(2) {
                recorders.append(EventRecorderMDNS(discovery.events))
                advertisements.append(try await discovery.advertise(service))
            }
            let browser = BrowseRecorder(try await discoveries[2].browse("_twin._udp"))
            for recorder in recorders {
                try await recorder.waitFor(within: Self.deadline) {
                    if case .advertised = $0 { true } else { false }
                }
            }
            var names: [String] = []
            for (index, discovery) in discoveries.prefix(2).enumerated() {
                let name = try #require(await discovery.names(of: advertisements[index])["eth0"])
                names.append(name.firstLabel)
            }
            #expect(Set(names) == ["Twin", "Twin (2)"], "names \(names)")
            let renames = recorders.map { recorder in
                recorder.all.filter { if case .renamed = $0 { true } else { false } }.count
            }
            #expect(renames.sorted() == [0, 1], "renames per host \(renames)")
            for name in ["Twin", "Twin (2)"] {
                let found = try await browser.waitForService(within: Self.deadline) { $0.instance == name }
                #expect(found.port == 5000)
                #expect(found.txt == [Array("k=v".utf8)])
            }
        }
    }

    /// An address added to or removed from the advertiser's interface is published anew,
    /// after ``MDNSDiscovery/refreshInterfaces()`` or by the periodic check
    /// (``MDNSDiscoveryConfiguration/interfaceCheckInterval``): a browser on another host
    /// sees it come and, after the goodbye, go.
    @Test(arguments: [true, false])
    func mdnsDiscoveryLab_addressChange_isPublishedAgain(explicitRefresh: Bool) async throws {
        try await Self.withDiscoveries(
            hostNames: ["lab-a", "lab-b"], checkInterval: explicitRefresh ? nil : .milliseconds(200)
        ) { lab, discoveries in
            let a = lab.hosts[0]
            _ = try await discoveries[0].advertise(MDNSService(instance: "Moving", type: "_move._udp", port: 6000))
            let browser = BrowseRecorder(try await discoveries[1].browse("_move._udp"))
            _ = try await browser.waitForService(within: Self.deadline) {
                $0.instance == "Moving" && $0.addresses.map(\.description).contains(a.address)
            }
            try a.namespace.ip(["addr", "add", "192.0.2.99/24", "dev", a.interface])
            if explicitRefresh { await discoveries[0].refreshInterfaces() }
            _ = try await browser.waitForService(within: Self.deadline) {
                $0.instance == "Moving" && $0.addresses.map(\.description).contains("192.0.2.99")
            }
            try a.namespace.ip(["addr", "del", "192.0.2.99/24", "dev", a.interface])
            if explicitRefresh { await discoveries[0].refreshInterfaces() }
            let after = try await browser.waitForService(within: Self.deadline) {
                $0.instance == "Moving" && !$0.addresses.map(\.description).contains("192.0.2.99")
            }
            #expect(after.addresses.map(\.description).contains(a.address))
        }
    }

    /// An interface that goes down and comes back: the responder stops while it is down
    /// and, once a check finds it up again, probes and announces everything, including a
    /// service advertised while it was down.
    @Test func mdnsDiscoveryLab_linkDownAndUp_announcesAgain() async throws {
        try await Self.withDiscoveries(hostNames: ["lab-a", "lab-b"]) { lab, discoveries in
            let a = lab.hosts[0]
            let browser = BrowseRecorder(try await discoveries[1].browse("_flap._udp"))
            _ = try await discoveries[0].advertise(MDNSService(instance: "Before", type: "_flap._udp", port: 6001))
            _ = try await browser.waitForService(within: Self.deadline) { $0.instance == "Before" }

            try a.namespace.ip(["link", "set", a.interface, "down"])
            await discoveries[0].refreshInterfaces()
            #expect(await discoveries[0].interfaceStates() == [a.interface: false])
            _ = try await discoveries[0].advertise(MDNSService(instance: "During", type: "_flap._udp", port: 6002))
            try a.namespace.ip(["link", "set", a.interface, "up"])
            // The carrier may take a moment: check again until the browser has it.
            let clock = ContinuousClock()
            let deadline = clock.now + Self.deadline
            var found: MDNSResolvedService?
            while found == nil, clock.now < deadline {
                await discoveries[0].refreshInterfaces()
                found = try? await browser.waitForService(within: .milliseconds(500)) {
                    $0.instance == "During" && $0.addresses.map(\.description).contains(a.address)
                }
            }
            let during = try #require(found, "the service advertised while down was never announced")
            #expect(during.port == 6002)
            #expect(await discoveries[0].interfaceStates() == [a.interface: true])
        }
    }

    /// Service-type enumeration (RFC 6763 §9) on one host lists the types another host
    /// advertises, and a browse stream of a type started late first replays what is
    /// already resolved; a withdrawn service is removed from both streams.
    @Test func mdnsDiscoveryLab_serviceTypes_areEnumeratedAndLateBrowsersReplayAndWithdrawRemoves() async throws {
        try await Self.withDiscoveries(hostNames: ["lab-a", "lab-b"]) { _, discoveries in
            let one = try await discoveries[0].advertise(MDNSService(instance: "One", type: "_one._udp", port: 1001))
            _ = try await discoveries[0].advertise(MDNSService(instance: "Two", type: "_two._tcp", port: 1002))
            let types = BrowseRecorder(try await discoveries[1].browseServiceTypes())
            for type in ["_one._udp.local", "_two._tcp.local"] {
                let name = try DNSName(type)
                try await types.waitForEvent(within: Self.deadline) {
                    if case .serviceTypeAdded(name, "eth0") = $0 { true } else { false }
                }
            }
            let first = BrowseRecorder(try await discoveries[1].browse("_one._udp"))
            _ = try await first.waitForService(within: Self.deadline) { $0.instance == "One" }
            // A second stream of the same type gets the resolved instance at once, replayed.
            let second = BrowseRecorder(try await discoveries[1].browse("_one._udp.local."))
            _ = try await second.waitForService(within: Self.deadline) { $0.instance == "One" }
            #expect(
                !first.all.contains { if case .added(let service, _) = $0 { service.instance == "Two" } else { false } }
            )
            let listed = try await discoveries[1].services(of: "_one._udp")
            #expect(listed.map(\.service.instance) == ["One"])
            #expect(listed.map(\.interface) == ["eth0"])

            // Withdrawn: the goodbye removes it from both streams, and it is unknown after.
            try await discoveries[0].withdraw(one)
            for recorder in [first, second] {
                try await recorder.waitForEvent(within: Self.deadline) {
                    if case .removed(let name, _) = $0 { name.firstLabel == "One" } else { false }
                }
            }
            await #expect(throws: MDNSDiscoveryError.unknownAdvertisement) { try await discoveries[0].withdraw(one) }
        }
    }

    /// An interface that gains its first address of a family (here IPv6) gets its sockets
    /// opened again with that family: the service is then published with the new AAAA.
    @Test func mdnsDiscoveryLab_newAddressFamily_reopensAndPublishesIt() async throws {
        try await NamespaceLab.with(hosts: 2) { lab in
            let a = lab.hosts[0]
            try a.namespace.ip(["-6", "addr", "flush", "dev", a.interface])
            var discoveries: [MDNSDiscovery] = []
            do {
                for (index, host) in lab.hosts.enumerated() {
                    var configuration = MDNSDiscoveryConfiguration(interfaces: [host.interface])
                    configuration.networkNamespace = host.name
                    configuration.hostName = "lab-\(index)"
                    configuration.interfaceCheckInterval = nil
                    let discovery = try MDNSDiscovery(configuration: configuration)
                    discoveries.append(discovery)
                    try await discovery.start()
                }
                _ = try await discoveries[0].advertise(MDNSService(instance: "Grows", type: "_grow._udp", port: 7000))
                let browser = BrowseRecorder(try await discoveries[1].browse("_grow._udp"))
                let before = try await browser.waitForService(within: Self.deadline) { $0.instance == "Grows" }
                #expect(before.addresses.map(\.description) == [a.address])

                try a.namespace.ip(["addr", "add", "\(a.ipv6LinkLocal)/64", "dev", a.interface, "nodad"])
                await discoveries[0].refreshInterfaces()
                let after = try await browser.waitForService(within: Self.deadline) {
                    $0.instance == "Grows" && $0.addresses.map(\.description).contains(a.ipv6LinkLocal)
                }
                #expect(after.addresses.map(\.description).contains(a.address))
            } catch {
                for discovery in discoveries { await discovery.shutdown() }
                throw error
            }
            for discovery in discoveries { await discovery.shutdown() }
        }
    }

    /// (c) avahi browsing on another host resolves the Starling peer's `_starling._udp`
    /// instance, with its host, port, addresses and TXT.
    @Test(.requiresAvahi) func mdnsDiscoveryLab_avahiBrowses_seesTheStarlingServiceWithTXT() async throws {
        try await Self.withDiscoveries(hostNames: ["lab-a"], extraHosts: 1) { lab, discoveries in
            let a = lab.hosts[0]
            let b = lab.hosts[1]
            var random = TestRandom(seed: 17)
            let key = IdentityKeyPair.generate(using: &random)
            let instance = MDNSStarlingPeer.defaultInstance(for: key.peerID)
            _ = try await discoveries[0].advertise(
                MDNSStarlingPeer.service(instance: instance, peerID: key.peerID, swarmID: Self.swarmID, port: 4100))
            try await AvahiNode.with(in: b.namespace, interface: b.interface, hostName: "lab-b") { avahi in
                let clock = ContinuousClock()
                let started = clock.now
                let browsing = try avahi.startBrowsing(MDNSStarlingPeer.serviceType)
                let v4 = try await browsing.waitForResolved(timeout: Self.deadline) {
                    $0.name == instance && $0.family == "IPv4"
                }
                print("mdns lab: avahi-browse resolved the Starling instance after \(clock.now - started)")
                #expect(v4.hostName == "lab-a.local")
                #expect(v4.address == a.address)
                #expect(v4.port == 4100)
                #expect(
                    Set(v4.txt) == [
                        "id=\(key.peerID)", "swarm=" + String(repeating: "42", count: 32), "v=1",
                    ])
                let v6 = try await browsing.waitForResolved(timeout: Self.deadline) {
                    $0.name == instance && $0.family == "IPv6"
                }
                #expect(v6.hostName == "lab-a.local")
                #expect(v6.port == 4100)
                await browsing.stop()
            }
        }
    }

    /// (d) Starling browsing on another host resolves a service `avahi-publish` publishes.
    @Test(.requiresAvahi) func mdnsDiscoveryLab_starlingBrowses_seesTheAvahiService() async throws {
        try await Self.withDiscoveries(hostNames: ["lab-b"], firstHost: 1) { lab, discoveries in
            let a = lab.hosts[0]
            try await AvahiNode.with(in: a.namespace, interface: a.interface, hostName: "lab-a") { avahi in
                let publication = try await avahi.publish(
                    name: "Avahi Demo", type: "_demo._udp", port: 4242, txt: ["k=v", "x=y z"], timeout: Self.deadline)
                let clock = ContinuousClock()
                let started = clock.now
                let browser = BrowseRecorder(try await discoveries[0].browse("_demo._udp"))
                let found = try await browser.waitForService(within: Self.deadline) {
                    $0.instance == "Avahi Demo" && $0.addresses.count >= 2
                }
                print("mdns lab: Starling resolved the avahi-publish instance after \(clock.now - started)")
                #expect(found.host.description == "lab-a.local")
                #expect(found.port == 4242)
                #expect(Set(found.txt.map { String(decoding: $0, as: UTF8.self) }) == ["k=v", "x=y z"])
                let texts = Set(found.addresses.map(\.description))
                #expect(texts.contains(a.address), "addresses \(texts)")
                #expect(texts.contains(a.ipv6LinkLocal), "addresses \(texts)")
                // Withdrawn: avahi's goodbye removes it.
                await publication.withdraw()
                try await browser.waitForEvent(within: Self.deadline) {
                    if case .removed(let name, _) = $0 { name.firstLabel == "Avahi Demo" } else { false }
                }
            }
        }
    }

    // MARK: Helpers

    /// Builds a lab with one host per name (after `firstHost` hosts and before
    /// `extraHosts` more without Starling), starts one discovery in each named host's
    /// namespace (host name `hostNames[i]`, interfaces checked every `checkInterval`, or
    /// only when a test says), runs `body`, and shuts every discovery down before the
    /// lab goes, even when `body` throws.
    static func withDiscoveries(
        hostNames: [String], firstHost: Int = 0, extraHosts: Int = 0, checkInterval: Duration? = nil,
        _ body: (NamespaceLab, [MDNSDiscovery]) async throws -> Void
    ) async throws {
        try await NamespaceLab.with(hosts: firstHost + hostNames.count + extraHosts) { lab in
            var discoveries: [MDNSDiscovery] = []
            do {
                for (index, host) in lab.hosts[firstHost..<(firstHost + hostNames.count)].enumerated() {
                    var configuration = MDNSDiscoveryConfiguration(interfaces: [host.interface])
                    configuration.networkNamespace = host.name
                    configuration.hostName = hostNames[index]
                    configuration.interfaceCheckInterval = checkInterval
                    let discovery = try MDNSDiscovery(configuration: configuration)
                    discoveries.append(discovery)
                    try await discovery.start()
                }
                try await body(lab, discoveries)
            } catch {
                for discovery in discoveries { await discovery.shutdown() }
                throw error
            }
            for discovery in discoveries { await discovery.shutdown() }
        }
    }
}
