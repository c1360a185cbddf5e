/// Continuous querying, resolving, refreshing and reporting.
extension MDNSBrowser {
    public mutating func handleTimeout(now: Instant) {
        _ = cache.removeExpired(now: now)
        guard isLinkUp else {
            report()
            return
        }
        var asked: [QuestionKey] = []
        for record in cache.takeDueRefreshes(now: now) {
            let key = QuestionKey(name: record.name, type: record.type)
            if questions[key] != nil, !asked.contains(key) { asked.append(key) }
        }
        var unicast: Set<QuestionKey> = []
        for (key, question) in questions.sorted(by: { $0.key.name.description < $1.key.name.description }) {
            guard let due = question.nextQuery, due <= now else { continue }
            if question.sent == 0 { unicast.insert(key) }
            if !asked.contains(key) { asked.append(key) }
            var next = question
            next.sent += 1
            next.nextQuery = now + question.interval
            next.interval = Self.nextInterval(after: question.interval, maximum: configuration.maximumQueryInterval)
            questions[key] = next
        }
        if !asked.isEmpty { sendQuery(asked, unicast: unicast, now: now) }
        syncQuestions(now: now)
        report()
    }

    /// The interval after `interval` in continuous querying: doubled, capped at `maximum`
    /// (RFC 6762 §5.2).
    public static func nextInterval(after interval: Duration, maximum: Duration) -> Duration {
        min(interval * 2, maximum)
    }

    /// Sends one query for `keys` with known answers; too many known answers go on in
    /// further packets, each but the last with TC set (RFC 6762 §7.1, §7.2).
    mutating func sendQuery(_ keys: [QuestionKey], unicast: Set<QuestionKey>, now: Instant) {
        var known: [DNSRecord] = []
        for key in keys {
            for entry in cache.entries(named: key.name, type: key.type) where entry.isFresh(at: now) {
                known.append(entry.remaining(at: now))
            }
        }
        var packets: [[UInt8]] = []
        var encoder = DNSMessageEncoder(maximumSize: configuration.maximumPayload)
        for key in keys {
            _ = encoder.append(DNSQuestion(name: key.name, type: key.type, unicastResponse: unicast.contains(key)))
        }
        var remaining = known[...]
        while let record = remaining.first {
            if encoder.append(record, to: .answer) {
                remaining.removeFirst()
                continue
            }
            if encoder.recordCount == 0 {
                remaining.removeFirst()  // cannot fit even alone
                continue
            }
            packets.append(encoder.finish())
            encoder = DNSMessageEncoder(maximumSize: configuration.maximumPayload)
        }
        packets.append(encoder.finish())
        for index in packets.indices.dropLast() { packets[index][2] |= UInt8(MDNSConstants.flagTruncated >> 8) }
        for packet in packets { send(packet) }
    }

    /// Whether a record answers something the browser asks.
    func wants(_ record: DNSRecord) -> Bool {
        switch record.type {
        case .a, .aaaa, .nsec:
            questions[QuestionKey(name: record.name, type: .a)] != nil
                || questions[QuestionKey(name: record.name, type: .aaaa)] != nil
        default:
            questions[QuestionKey(name: record.name, type: record.type)] != nil
        }
    }

    /// The questions the browsed types imply: PTR of each type (continuous); SRV and TXT
    /// of each instance; A and AAAA of each instance's host (until answered).
    func wantedQuestions() -> [QuestionKey: Bool] {
        var wanted: [QuestionKey: Bool] = [:]
        for type in browsed {
            wanted[QuestionKey(name: type, type: .ptr)] = true
            guard type != MDNSConstants.servicesName else { continue }
            for entry in cache.entries(named: type, type: .ptr) {
                guard case .ptr(let instance) = entry.record.data else { continue }
                wanted[QuestionKey(name: instance, type: .srv)] = false
                wanted[QuestionKey(name: instance, type: .txt)] = false
                for srv in cache.entries(named: instance, type: .srv) {
                    guard case .srv(_, _, _, let host) = srv.record.data else { continue }
                    wanted[QuestionKey(name: host, type: .a)] = false
                    wanted[QuestionKey(name: host, type: .aaaa)] = false
                }
            }
        }
        return wanted
    }

    /// Whether the cache answers a resolve question.
    func isAnswered(_ key: QuestionKey) -> Bool {
        switch key.type {
        case .a, .aaaa:
            !cache.entries(named: key.name).filter { [.a, .aaaa].contains($0.record.type) }.isEmpty
        default:
            !cache.entries(named: key.name, type: key.type).isEmpty
        }
    }

    /// Adds the questions newly implied, drops those no longer wanted, and pauses
    /// answered resolve questions.
    mutating func syncQuestions(now: Instant) {
        let wanted = wantedQuestions()
        for key in questions.keys where wanted[key] == nil { questions[key] = nil }
        // Questions that start together share one random delay, so they share a packet.
        var sharedDelay: Duration?
        func firstDelay() -> Duration {
            if let sharedDelay { return sharedDelay }
            let delay = randomDelay(in: MDNSConstants.firstQueryDelay)
            sharedDelay = delay
            return delay
        }
        for (key, continuous) in wanted.sorted(by: { $0.key.name.description < $1.key.name.description }) {
            if var question = questions[key] {
                if !continuous {
                    if isAnswered(key) {
                        question.nextQuery = nil
                    } else if question.nextQuery == nil {
                        question.nextQuery = now + firstDelay()
                    }
                }
                questions[key] = question
                continue
            }
            let answered = !continuous && isAnswered(key)
            questions[key] = ActiveQuestion(
                continuous: continuous,
                nextQuery: answered ? nil : now + firstDelay(),
                interval: MDNSConstants.firstQueryInterval, sent: 0)
        }
    }

    /// Compares what the cache now resolves with what was reported and queues events.
    mutating func report() {
        var current: [DNSName: MDNSResolvedService] = [:]
        var types: Set<DNSName> = []
        for type in browsed {
            for entry in cache.entries(named: type, type: .ptr) {
                guard case .ptr(let target) = entry.record.data else { continue }
                if type == MDNSConstants.servicesName {
                    types.insert(target)
                } else if let service = resolve(target, type: type) {
                    current[target] = service
                } else if let old = reported[target] {
                    current[target] = old  // still listed; keep the last resolution
                }
            }
        }
        for name in reported.keys.sorted(by: { $0.description < $1.description }) where current[name] == nil {
            events.append(.removed(name))
        }
        for (name, service) in current.sorted(by: { $0.key.description < $1.key.description }) {
            if let old = reported[name] {
                if old != service { events.append(.updated(service)) }
            } else {
                events.append(.added(service))
            }
        }
        reported = current
        for type in reportedTypes.subtracting(types).sorted(by: { $0.description < $1.description }) {
            events.append(.serviceTypeRemoved(type))
        }
        for type in types.subtracting(reportedTypes).sorted(by: { $0.description < $1.description }) {
            events.append(.serviceTypeAdded(type))
        }
        reportedTypes = types
    }

    /// The instance as the cache resolves it: its newest SRV and TXT and the SRV target's
    /// addresses; `nil` without an SRV or any address.
    func resolve(_ instance: DNSName, type: DNSName) -> MDNSResolvedService? {
        guard let srv = cache.entries(named: instance, type: .srv).last,
            case .srv(_, _, let port, let host) = srv.record.data
        else { return nil }
        var addresses: [PeerAddress.Host] = []
        for entry in cache.entries(named: host) {
            switch entry.record.data {
            case .a(let value): addresses.append(.ipv4(value))
            case .aaaa(let high, let low): addresses.append(.ipv6(high: high, low: low))
            default: break
            }
        }
        guard !addresses.isEmpty else { return nil }
        addresses.sort {
            PeerAddress(host: $0, port: 0).hostBytes.lexicographicallyPrecedes(PeerAddress(host: $1, port: 0).hostBytes)
        }
        var txt: [[UInt8]] = []
        if case .txt(let strings) = cache.entries(named: instance, type: .txt).last?.record.data { txt = strings }
        return MDNSResolvedService(name: instance, type: type, host: host, port: port, addresses: addresses, txt: txt)
    }
}
