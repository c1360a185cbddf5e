import Logging
import NIOCore
import StarlingCore
import StarlingIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One named interface: its responder, its browser and its sockets.
final class MDNSLink {
    var info: MDNSLinkInfo
    var responder: MDNSResponder
    var browser: MDNSBrowser
    /// Set once the sockets are open; until then the cores' datagrams wait in them.
    var sockets: MDNSSockets?
    /// Whether the interface was found at the last check.
    var isUp = true
    /// Types found by enumeration, replayed to new type browsers.
    var serviceTypes: Set<DNSName> = []
    /// What the responder and the browser dropped, explained in the log.
    var responderDrops: DropLog<MDNSDrop>
    var browserDrops: DropLog<MDNSBrowser.Drop>

    init(info: MDNSLinkInfo, responder: MDNSResponder, browser: MDNSBrowser, logger: Logger) {
        self.info = info
        self.responder = responder
        self.browser = browser
        var logger = logger
        logger[metadataKey: "interface"] = "\(info.name)"
        responderDrops = DropLog("mDNS responder packets dropped", logger: logger)
        browserDrops = DropLog("mDNS browser packets dropped", logger: logger)
    }

    /// Logs what the cores dropped since the last look.
    func logDrops() {
        responderDrops.update(responder.drops)
        browserDrops.update(browser.drops)
    }
}

/// Drives the responder and browser of every interface of an ``MDNSDiscovery`` on its
/// event loop: input → drain `pollTransmit` → re-arm the one timer → drain `pollEvent`.
///
/// - Warning: lives on ``eventLoop``; every method must be called there.
final class MDNSEngine {
    let eventLoop: any EventLoop
    private(set) var links: [MDNSLink]
    private var byName: [String: MDNSLink]
    private var timer: Scheduled<Void>?
    private var armedDeadline: Instant?
    private var lastNow: Instant
    private var transmit: [UInt8] = []
    /// The responder's service of each advertisement on each interface.
    private var advertisements: [Int: [String: MDNSResponder.ServiceID]] = [:]
    /// How many browse streams want each type.
    private var browsedTypes: [DNSName: Int] = [:]
    private var isShutDown = false
    private let onEvent: (MDNSDiscovery.Event) -> Void
    private let onBrowseEvent: (MDNSDiscovery.BrowseEvent) -> Void
    private let configuration: MDNSDiscoveryConfiguration
    /// Whether drops are explained in the log (it shows `debug`).
    private var logsDrops: Bool { configuration.logger.logLevel <= .debug }
    /// The service of each advertisement (with its latest TXT), to register again on
    /// reopened interfaces.
    private var services: [Int: MDNSService] = [:]

    /// Creates the cores of every interface; the host names start probing once the sockets
    /// are attached.
    init(
        eventLoop: any EventLoop, links infos: [MDNSLinkInfo], hostName: String,
        configuration: MDNSDiscoveryConfiguration, onEvent: @escaping (MDNSDiscovery.Event) -> Void,
        onBrowseEvent: @escaping (MDNSDiscovery.BrowseEvent) -> Void
    ) throws(MDNSDiscoveryError) {
        self.eventLoop = eventLoop
        self.onEvent = onEvent
        self.onBrowseEvent = onBrowseEvent
        self.configuration = configuration
        let now = SystemClock.monotonicNow()
        lastNow = now
        var links: [MDNSLink] = []
        for info in infos {
            links.append(try Self.makeLink(info, hostName: hostName, configuration: configuration, now: now))
        }
        self.links = links
        self.byName = Dictionary(uniqueKeysWithValues: links.map { ($0.info.name, $0) })
    }

    /// A responder and a browser for `info`, sending to the groups of its families; taken
    /// down at once when the interface is down.
    private static func makeLink(
        _ info: MDNSLinkInfo, hostName: String, configuration: MDNSDiscoveryConfiguration, now: Instant
    ) throws(MDNSDiscoveryError) -> MDNSLink {
        let destinations = groups(of: info.families)
        var responderSettings = MDNSResponderConfiguration(hostName: hostName, addresses: info.addresses)
        responderSettings.destinations = destinations
        responderSettings.announceCount = configuration.announceCount
        var browserSettings = configuration.browser
        browserSettings.destinations = destinations
        do {
            let responder = try MDNSResponder(
                configuration: responderSettings, seed: UInt64.random(in: .min ... .max), now: now)
            let browser = try MDNSBrowser(configuration: browserSettings, seed: UInt64.random(in: .min ... .max))
            let link = MDNSLink(info: info, responder: responder, browser: browser, logger: configuration.logger)
            if !info.isUp {
                // Down: nothing is sent until a check finds it up.
                link.isUp = false
                link.responder.linkChanged(up: false, now: now)
                link.browser.linkChanged(up: false, now: now)
            }
            return link
        } catch {
            throw .invalidConfiguration("\(error)")
        }
    }

    /// Whether `reading` needs the interface's sockets opened again: it was re-created
    /// (a new index) or gained an address of a chosen family it had none of.
    func needsReopening(_ reading: MDNSLinkInfo) -> Bool {
        guard let link = byName[reading.name], !isShutDown, reading.isUp else { return false }
        return reading.index != link.info.index || !reading.families.isSubset(of: link.info.families)
    }

    /// Replaces an interface's cores and sockets with new ones for `info` (after
    /// ``needsReopening(_:)``): the new responder probes the same host label and
    /// advertises every service again, the new browser browses the same types.
    /// - Returns: whether the new sockets were taken, and the old sockets to close.
    func reopen(_ info: MDNSLinkInfo, with sockets: MDNSSockets) -> (taken: Bool, old: MDNSSockets?) {
        guard let old = byName[info.name], let index = links.firstIndex(where: { $0 === old }), !isShutDown else {
            return (false, nil)
        }
        let now = now()
        let hostLabel = old.responder.hostName.firstLabel
        guard let link = try? Self.makeLink(info, hostName: hostLabel, configuration: configuration, now: now) else {
            return (false, nil)
        }
        for (id, service) in services {
            if let registered = try? link.responder.register(service, now: now) {
                advertisements[id, default: [:]][info.name] = registered
            }
        }
        for type in browsedTypes.keys { link.browser.browse(type, now: now) }
        link.serviceTypes = old.serviceTypes
        link.sockets = sockets
        links[index] = link
        byName[info.name] = link
        drive(now: now)
        return (true, old.sockets)
    }

    /// The mDNS groups of `families`, IPv4 first.
    static func groups(of families: Set<MDNSFamily>) -> [PeerAddress] {
        MDNSFamily.allCases.filter(families.contains).map {
            $0 == .ipv4 ? MDNSConstants.ipv4Group : MDNSConstants.ipv6Group
        }
    }

    /// The current monotonic time, never earlier than any time given to a core before.
    private func now() -> Instant {
        let now = SystemClock.monotonicNow()
        if now > lastNow { lastNow = now }
        return lastNow
    }

    // MARK: Inputs

    /// Starts sending through `sockets` on its interface.
    func attach(_ sockets: MDNSSockets, to interface: String) {
        byName[interface]?.sockets = sockets
        drive(now: now())
    }

    /// Feeds a datagram to the responder and the browser of its arrival interface (with
    /// its true source address and port); outputs are driven at the end of the read batch.
    func receive(_ datagram: MDNSDatagram) {
        guard !isShutDown, let link = byName[datagram.endpoint.interface.name], link.isUp,
            let source = PeerAddress(datagram.source)
        else { return }
        let now = now()
        datagram.bytes.withUnsafeReadableBytes { bytes in
            link.responder.handleDatagram(bytes, from: source, now: now)
            link.browser.handleDatagram(bytes, from: source, now: now)
        }
        if logsDrops { link.logDrops() }
    }

    /// The end of a read batch.
    func readComplete() {
        guard !isShutDown else { return }
        drive(now: now())
    }

    // MARK: Commands

    /// Registers `service` (already validated) on every interface as advertisement `id`.
    func advertise(_ service: MDNSService, id: Int) throws(MDNSService.ValidationError) {
        let now = now()
        var registered: [String: MDNSResponder.ServiceID] = [:]
        for link in links {
            registered[link.info.name] = try link.responder.register(service, now: now)
        }
        advertisements[id] = registered
        services[id] = service
        drive(now: now)
    }

    /// Withdraws advertisement `id` everywhere, with goodbyes.
    /// - Returns: whether it was registered.
    func withdraw(_ id: Int) -> Bool {
        guard let registered = advertisements.removeValue(forKey: id) else { return false }
        services[id] = nil
        let now = now()
        for link in links {
            if let service = registered[link.info.name] { link.responder.unregister(service, now: now) }
        }
        drive(now: now)
        return true
    }

    /// Replaces the TXT strings of advertisement `id` and announces them.
    /// - Returns: whether it was registered.
    func updateTXT(_ txt: [[UInt8]], of id: Int) -> Bool {
        guard let registered = advertisements[id] else { return false }
        services[id]?.txt = txt
        let now = now()
        for link in links {
            if let service = registered[link.info.name] { link.responder.updateTXT(txt, of: service, now: now) }
        }
        drive(now: now)
        return true
    }

    /// The current name of advertisement `id` on each interface.
    func names(of id: Int) -> [String: DNSName] {
        var names: [String: DNSName] = [:]
        for link in links {
            if let service = advertisements[id]?[link.info.name], let name = link.responder.name(of: service) {
                names[link.info.name] = name
            }
        }
        return names
    }

    /// Starts browsing `type` (or one more stream of it).
    /// - Returns: what is resolved already, to replay to the new stream.
    func browse(_ type: DNSName) -> [MDNSDiscovery.BrowseEvent] {
        browsedTypes[type, default: 0] += 1
        let now = now()
        for link in links { link.browser.browse(type, now: now) }
        drive(now: now)
        var known: [MDNSDiscovery.BrowseEvent] = []
        for link in links {
            if type == MDNSConstants.servicesName {
                for found in link.serviceTypes { known.append(.serviceTypeAdded(found, interface: link.info.name)) }
            } else {
                for service in link.browser.services.values where service.type == type {
                    known.append(.added(service, interface: link.info.name))
                }
            }
        }
        return known
    }

    /// One stream of `type` ended; the last one stops the querying.
    func stopBrowsing(_ type: DNSName) {
        guard let count = browsedTypes[type], !isShutDown else { return }
        guard count <= 1 else {
            browsedTypes[type] = count - 1
            return
        }
        browsedTypes[type] = nil
        let now = now()
        for link in links { link.browser.stopBrowsing(type, now: now) }
        drive(now: now)
    }

    /// The resolved instances of `type` on every interface.
    func services(of type: DNSName) -> [(MDNSResolvedService, String)] {
        links.flatMap { link in
            link.browser.services.values.filter { $0.type == type }.map { ($0, link.info.name) }
        }
    }

    /// Applies a new reading of the interfaces: changed addresses are published again
    /// (goodbye to the old A/AAAA, probe and announce the new); an interface that is gone
    /// or down is taken down (``StarlingCore/MDNSResponder/linkChanged(up:now:)``), and one
    /// that is back up is brought up (probed and announced again). `nil` marks an
    /// interface not found.
    func update(_ readings: [String: MDNSLinkInfo?]) {
        guard !isShutDown else { return }
        let now = now()
        for link in links {
            guard let reading = readings[link.info.name] else { continue }
            if let info = reading, info.isUp {
                // The sockets stay on the families they opened with.
                let usable = info.addresses.filter { address in
                    let family: MDNSFamily = if case .ipv4 = address { .ipv4 } else { .ipv6 }
                    return link.info.families.contains(family)
                }
                if usable != link.info.addresses {
                    // While down this only stores them; coming up probes with them.
                    link.responder.updateAddresses(usable, now: now)
                    link.info = MDNSLinkInfo(
                        name: link.info.name, index: link.info.index, families: link.info.families, addresses: usable,
                        isUp: true)
                }
                if !link.isUp {
                    link.isUp = true
                    link.responder.linkChanged(up: true, now: now)
                    link.browser.linkChanged(up: true, now: now)
                }
            } else if link.isUp {
                link.isUp = false
                link.responder.linkChanged(up: false, now: now)
                link.browser.linkChanged(up: false, now: now)
            }
        }
        drive(now: now)
    }

    /// Sends goodbyes for everything announced and stops for good.
    /// - Returns: the sends of the goodbyes, to wait for before closing the sockets.
    func shutdown() -> [EventLoopFuture<Void>] {
        guard !isShutDown else { return [] }
        let now = now()
        for link in links { link.responder.shutdown(now: now) }
        let sent = drive(now: now)
        isShutDown = true
        timer?.cancel()
        timer = nil
        advertisements = [:]
        services = [:]
        return sent
    }

    // MARK: Outputs

    /// Sends every queued datagram, re-arms the timer, then reports the events.
    @discardableResult
    private func drive(now: Instant) -> [EventLoopFuture<Void>] {
        var sent: [EventLoopFuture<Void>] = []
        for link in links {
            guard let sockets = link.sockets else { continue }
            while let destination = link.responder.pollTransmit(now: now, into: &transmit) {
                sent.append(send(destination, on: link, through: sockets))
            }
            while let destination = link.browser.pollTransmit(now: now, into: &transmit) {
                sent.append(send(destination, on: link, through: sockets))
            }
        }
        rearmTimer(now: now)
        for link in links {
            while let event = link.responder.pollEvent() { report(event, on: link) }
            while let event = link.browser.pollEvent() { report(event, on: link) }
        }
        return sent
    }

    /// Sends the datagram in ``transmit`` out of `link`: to its group, or unicast (an IPv6
    /// link-local address scoped to the interface).
    private func send(_ destination: PeerAddress, on link: MDNSLink, through sockets: MDNSSockets)
        -> EventLoopFuture<Void>
    {
        let target: MDNSDestination
        if destination == MDNSConstants.ipv4Group {
            target = .multicast(interface: link.info.name, family: .ipv4)
        } else if destination == MDNSConstants.ipv6Group {
            target = .multicast(interface: link.info.name, family: .ipv6)
        } else {
            target = .unicast(Self.socketAddress(destination, scope: link.info.index), interface: link.info.name)
        }
        return sockets.send(ByteBuffer(bytes: transmit), to: target)
    }

    /// `address` as a socket address; an IPv6 link-local one gets the interface as scope.
    static func socketAddress(_ address: PeerAddress, scope: Int) -> SocketAddress {
        let plain = SocketAddress(address)
        guard case .ipv6(let high, _) = address.host, high & 0xFFC0_0000_0000_0000 == 0xFE80_0000_0000_0000,
            case .v6(let v6) = plain
        else { return plain }
        var raw = v6.address
        raw.sin6_scope_id = UInt32(scope)
        return SocketAddress(raw, host: "")
    }

    private func report(_ event: MDNSResponderEvent, on link: MDNSLink) {
        let interface = link.info.name
        let logger = configuration.logger
        switch event {
        case .registered(let name):
            logger.info("mDNS name registered", metadata: ["name": "\(name)", "interface": "\(interface)"])
            if name == link.responder.hostName {
                onEvent(.hostNameRegistered(name, interface: interface))
            } else if let id = advertisement(named: name, on: link) {
                onEvent(.advertised(MDNSDiscovery.Advertisement(rawValue: id), name: name, interface: interface))
            }
        case .renamed(let from, let to):
            logger.info(
                "mDNS name renamed after a conflict",
                metadata: ["from": "\(from)", "to": "\(to)", "interface": "\(interface)"])
            if to == link.responder.hostName {
                onEvent(.hostRenamed(from: from, to: to, interface: interface))
            } else if let id = advertisement(named: to, on: link) {
                onEvent(
                    .renamed(MDNSDiscovery.Advertisement(rawValue: id), from: from, to: to, interface: interface))
            }
        case .unregistered(let name):
            logger.debug("mDNS name withdrawn", metadata: ["name": "\(name)", "interface": "\(interface)"])
            onEvent(.withdrawn(name: name, interface: interface))
        case .conflict, .tieBreakLost:
            logger.debug("mDNS name conflict", metadata: ["event": "\(event)", "interface": "\(interface)"])
        }
    }

    private func report(_ event: MDNSBrowserEvent, on link: MDNSLink) {
        let interface = link.info.name
        let logger = configuration.logger
        switch event {
        case .added(let service):
            logger.debug("mDNS service found", metadata: ["name": "\(service.name)", "interface": "\(interface)"])
            onBrowseEvent(.added(service, interface: interface))
        case .updated(let service): onBrowseEvent(.updated(service, interface: interface))
        case .removed(let name):
            logger.debug("mDNS service gone", metadata: ["name": "\(name)", "interface": "\(interface)"])
            onBrowseEvent(.removed(name, interface: interface))
        case .serviceTypeAdded(let type):
            link.serviceTypes.insert(type)
            onBrowseEvent(.serviceTypeAdded(type, interface: interface))
        case .serviceTypeRemoved(let type):
            link.serviceTypes.remove(type)
            onBrowseEvent(.serviceTypeRemoved(type, interface: interface))
        }
    }

    /// The advertisement whose service on `link` is now called `name`.
    private func advertisement(named name: DNSName, on link: MDNSLink) -> Int? {
        advertisements.first { _, services in
            services[link.info.name].flatMap { link.responder.name(of: $0) } == name
        }?.key
    }

    // MARK: Timer

    /// Makes sure the timer fires by the earliest deadline of every core; a later
    /// deadline leaves an armed timer alone (it re-arms when it fires).
    private func rearmTimer(now: Instant) {
        guard !isShutDown else { return }
        var earliest: Instant?
        for link in links {
            for deadline in [link.responder.pollTimeout(), link.browser.pollTimeout()] {
                if let deadline, earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
            }
        }
        guard let deadline = earliest else { return }
        if let armedDeadline, armedDeadline <= deadline { return }
        timer?.cancel()
        armedDeadline = deadline
        let delay = max(.zero, deadline - now)
        timer = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(delay.nanosecondsClamped)) { [self] in
            self.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        armedDeadline = nil
        guard !isShutDown else { return }
        let now = now()
        for link in links {
            if let due = link.responder.pollTimeout(), due <= now { link.responder.handleTimeout(now: now) }
            if let due = link.browser.pollTimeout(), due <= now { link.browser.handleTimeout(now: now) }
        }
        drive(now: now)
    }
}
