import Foundation
import Starling
import StarlingTestSupport
import Testing

/// The avahi harness itself (``AvahiNode``): two avahi instances on two hosts of a
/// ``NamespaceLab``, each with its own bus and run directory, find each other's services.
/// Later interoperability tests replace one side with Starling.
@Suite(.requiresNetworkNamespaces, .requiresAvahi, .serialized)
struct AvahiLabTests {
    /// Bounds a hang only; avahi normally resolves within a few seconds.
    static let deadline = Duration.seconds(20)

    @Test func avahiLab_publishInOneNamespace_isBrowsedAndResolvedInAnother() async throws {
        try await NamespaceLab.with(hosts: 2) { lab in
            let a = lab.hosts[0]
            let b = lab.hosts[1]
            try await AvahiNode.with(in: a.namespace, interface: a.interface, hostName: "lab-a") { publisher in
                try await AvahiNode.with(in: b.namespace, interface: b.interface, hostName: "lab-b") { browser in
                    #expect(publisher.busAddress != browser.busAddress)
                    let publication = try await publisher.publish(
                        name: "Demo One", type: "_demo._udp", port: 4242, txt: ["k=v", "x=y z"],
                        timeout: Self.deadline)
                    #expect(publication.line.contains("Demo One"))
                    let browsing = try browser.startBrowsing("_demo._udp")
                    let v4 = try await browsing.waitForResolved(timeout: Self.deadline) {
                        $0.name == "Demo One" && $0.family == "IPv4"
                    }
                    #expect(v4.interface == b.interface)
                    #expect(v4.type == "_demo._udp")
                    #expect(v4.domain == "local")
                    #expect(v4.hostName == "lab-a.local")
                    #expect(v4.address == a.address)
                    #expect(v4.port == 4242)
                    #expect(Set(v4.txt) == ["k=v", "x=y z"])
                    let v6 = try await browsing.waitForResolved(timeout: Self.deadline) {
                        $0.name == "Demo One" && $0.family == "IPv6"
                    }
                    #expect(v6.hostName == "lab-a.local")
                    #expect(v6.port == 4242)
                    // A one-shot browse (`avahi-browse -rpt`) lists it too.
                    let dump = try await browser.browse("_demo._udp", timeout: Self.deadline)
                    #expect(Set(dump.filter { $0.name == "Demo One" }.map(\.family)) == ["IPv4", "IPv6"])

                    // Withdrawn (goodbye records): the browser reports it removed.
                    await publication.withdraw()
                    try await browsing.waitForRemoval(of: "Demo One", timeout: Self.deadline)
                    await browsing.stop()
                }
            }
        }
    }

    /// Starling's mDNS sockets share port 5353 with an avahi-daemon in the same namespace
    /// and hear the other host's avahi.
    @Test func avahiLab_mdnsSocketsBesideAvahi_bindAndHearTheOtherAvahi() async throws {
        try await MDNSSocketsLabTests.withLab(hosts: 2) { lab, pool in
            let a = lab.hosts[0]
            let b = lab.hosts[1]
            try await AvahiNode.with(in: b.namespace, interface: b.interface, hostName: "lab-b") { _ in
                let starling = try await pool.open(b)
                try await AvahiNode.with(in: a.namespace, interface: a.interface, hostName: "lab-a") { publisher in
                    let publication = try await publisher.publish(
                        name: "Heard", type: "_demo._udp", port: 4343, timeout: Self.deadline)
                    // avahi probes and announces by multicast from port 5353.
                    let heard = try await starling.inbox.first(within: Self.deadline) {
                        $0.source.ipAddress == a.address && $0.source.port == 5353
                    }
                    #expect(heard.endpoint.interface.name == b.interface)
                    #expect(heard.isMulticast == true)
                    await publication.withdraw()
                }
            }
        }
    }
}

/// The harness's parsing of `avahi-browse -p` output; needs no avahi.
@Suite struct AvahiServiceParsingTests {
    @Test func avahiService_parsesABrowseLine() throws {
        let line = #"=;eth0;IPv4;Demo\032One\046x;_demo._udp;local;lab-a.local;192.0.2.10;4242;"x=y z" "q=\"\\" "k=v""#
        let service = try #require(AvahiService(browseLine: line))
        #expect(service.name == "Demo One.x")
        #expect(service.address == "192.0.2.10")
        #expect(service.port == 4242)
        #expect(service.txt == ["x=y z", #"q="\"#, "k=v"])
        #expect(AvahiService(browseLine: "+;eth0;IPv4;Demo;_demo._udp;local") == nil)
    }
}
