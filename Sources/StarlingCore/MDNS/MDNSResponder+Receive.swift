/// Reading queries and responses: answering, defending, detecting conflicts.
extension MDNSResponder {
    public mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        guard isLinkUp else { return drop(.linkDown) }
        if sentRing.contains(where: { $0.elementsEqual(datagram) }) { return drop(.ownDatagram) }
        guard let message = try? DNSMessage.decode(datagram) else { return drop(.malformed) }
        guard message.opcode == 0, message.rcode == 0 else { return drop(.badHeader) }
        if message.isResponse {
            guard source.port == MDNSConstants.port else { return drop(.responseFromWrongPort) }
            handleResponse(message, now: now)
        } else {
            handleQuery(message, from: source, now: now)
        }
    }

    mutating func drop(_ reason: MDNSDrop) {
        drops[reason, default: 0] += 1
    }

    // MARK: Responses

    /// Checks another host's response against this host's names (RFC 6762 §8.1, §9) and
    /// drops pending answers it already gave (duplicate answer suppression, §7.4).
    mutating func handleResponse(_ message: DNSMessage, now: Instant) {
        let records = message.answers + message.additionals
        for ref in allRefs {
            guard let registration = self[ref] else { continue }
            let ours = unique(of: registration)
            let claims = records.filter { $0.name == registration.name && $0.ttl > 0 }
            guard !claims.isEmpty else { continue }
            if registration.phase.isProbing {
                // Any record with the name we probe, other than our own data, loses the probe.
                if claims.contains(where: { claim in !ours.contains { $0.sameData(as: claim) } }) {
                    lostProbe(ref, now: now)
                }
            } else if registration.phase.isAuthoritative {
                let ourTypes = Set(ours.map(\.type))
                let conflicting = claims.contains { claim in
                    ourTypes.contains(claim.type) && !ours.contains { $0.sameData(as: claim) }
                }
                if conflicting { conflictAfterAnnouncing(ref, now: now) }
            }
        }
        for index in pendingResponses.indices where pendingResponses[index].unicast == nil {
            pendingResponses[index].answers.removeAll { answer in
                records.contains { $0.sameData(as: answer) && $0.ttl >= answer.ttl / 2 }
            }
        }
        pendingResponses.removeAll { $0.answers.isEmpty }
    }

    // MARK: Queries

    /// Answers a query (RFC 6762 §6) and runs the probe tie-break for simultaneous probes (§8.2).
    mutating func handleQuery(_ message: DNSMessage, from source: PeerAddress, now: Instant) {
        let legacy = source.port != MDNSConstants.port
        let known = message.answers
        // Known answers that arrive in a continuation packet suppress answers still waiting (§7.2).
        if !known.isEmpty {
            for index in pendingResponses.indices {
                pendingResponses[index].answers.removeAll { answer in
                    known.contains { $0.sameData(as: answer) && $0.ttl >= answer.ttl / 2 }
                }
            }
            pendingResponses.removeAll { $0.answers.isEmpty }
        }
        let isProbe = !message.authorities.isEmpty
        if isProbe && !legacy { tieBreak(message, now: now) }

        var seen = Set<RecordKey>()
        var immediate: [DNSRecord] = []
        var delayed: [DNSRecord] = []
        var unicastImmediate: [DNSRecord] = []
        var unicastDelayed: [DNSRecord] = []
        for question in message.questions {
            for record in answers(to: question) where seen.insert(RecordKey(record)).inserted {
                if known.contains(where: { $0.sameData(as: record) && $0.ttl >= record.ttl / 2 }) { continue }
                let unique = record.cacheFlush
                if legacy {
                    unicastImmediate.append(record)
                    continue
                }
                let last = lastMulticast[RecordKey(record)]
                // A probe is defended by multicast even when it asks for a unicast reply:
                // on a host where two mDNS sockets share port 5353, the kernel hands a
                // unicast datagram to only one of them, maybe not the prober's (§15.1).
                if question.unicastResponse, !isProbe, let last, now - last < .seconds(Int64(record.ttl)) / 4 {
                    if unique { unicastImmediate.append(record) } else { unicastDelayed.append(record) }
                    continue
                }
                let limit = isProbe ? MDNSConstants.probeDefenseRateLimit : MDNSConstants.multicastRateLimit
                if let last, now - last < limit { continue }
                if unique { immediate.append(record) } else { delayed.append(record) }
            }
        }

        if legacy {
            guard !unicastImmediate.isEmpty else { return }
            guard unicastLimiter.allow(0, now: now) else { return drop(.unicastRateLimited) }
            let clamp = { (record: DNSRecord) -> DNSRecord in
                var copy = record
                copy.ttl = min(copy.ttl, MDNSConstants.legacyUnicastTTL)
                copy.cacheFlush = false
                return copy
            }
            sendResponse(
                answers: unicastImmediate.map(clamp), additionals: additionals(for: unicastImmediate).map(clamp),
                unicast: source, id: message.id, questions: message.questions, now: now)
            return
        }
        let truncated = message.isTruncated
        let knownAnswerDelay = truncated ? randomDelay(in: .milliseconds(400)...(.milliseconds(500))) : nil
        if !immediate.isEmpty {
            if let knownAnswerDelay {
                pendingResponses.append(
                    PendingResponse(
                        due: now + knownAnswerDelay, answers: immediate, additionals: additionals(for: immediate)))
            } else {
                sendResponse(answers: immediate, additionals: additionals(for: immediate), now: now)
            }
        }
        if !unicastImmediate.isEmpty || !unicastDelayed.isEmpty, !unicastLimiter.allow(0, now: now) {
            drop(.unicastRateLimited)
            unicastImmediate = []
            unicastDelayed = []
        }
        if !delayed.isEmpty || !unicastDelayed.isEmpty || (!immediate.isEmpty && knownAnswerDelay != nil),
            pendingResponses.count >= configuration.maximumPendingResponses
        {
            drop(.overloaded)
            delayed = []
            unicastDelayed = []
            if knownAnswerDelay != nil { immediate = [] }
        }
        if !unicastImmediate.isEmpty {
            sendResponse(
                answers: unicastImmediate, additionals: additionals(for: unicastImmediate), unicast: source, now: now)
        }
        if !delayed.isEmpty {
            let delay = knownAnswerDelay ?? randomDelay(in: MDNSConstants.sharedAnswerDelay)
            pendingResponses.append(
                PendingResponse(due: now + delay, answers: delayed, additionals: additionals(for: delayed)))
        }
        if !unicastDelayed.isEmpty {
            let delay = randomDelay(in: MDNSConstants.sharedAnswerDelay)
            pendingResponses.append(
                PendingResponse(
                    due: now + delay, answers: unicastDelayed, additionals: additionals(for: unicastDelayed),
                    unicast: source))
        }
    }

    /// Sends the delayed responses that are due, leaving out records multicast in the meantime.
    mutating func expirePendingResponses(now: Instant) {
        let due = pendingResponses.filter { $0.due <= now }
        pendingResponses.removeAll { $0.due <= now }
        for var response in due {
            if response.unicast == nil {
                response.answers.removeAll { answer in
                    lastMulticast[RecordKey(answer)].map { now - $0 < MDNSConstants.probeDefenseRateLimit } ?? false
                }
            }
            guard !response.answers.isEmpty else { continue }
            sendResponse(
                answers: response.answers, additionals: response.additionals, unicast: response.unicast, now: now)
        }
    }

    /// Runs the simultaneous-probe tie-break for every name of ours the probe proposes
    /// records for (RFC 6762 §8.2).
    mutating func tieBreak(_ message: DNSMessage, now: Instant) {
        for ref in allRefs {
            guard let registration = self[ref], registration.phase.isProbing else { continue }
            let theirs = message.authorities.filter { $0.name == registration.name }
            guard !theirs.isEmpty else { continue }
            if MDNSProbeTieBreak.compare(ours: proposed(registration), theirs: theirs) == .lost {
                lostTieBreak(ref, now: now)
            }
        }
    }

    /// The records this host answers `question` with: matching records of every
    /// announced name, or an NSEC when it owns the name but not the type (RFC 6762 §6.1).
    func answers(to question: DNSQuestion) -> [DNSRecord] {
        var result: [DNSRecord] = []
        for registration in allRegistrations where registration.phase.isAuthoritative {
            let matching = records(of: registration).filter { question.isAnswered(by: $0) }
            result += matching
            if matching.isEmpty, question.name == registration.name, question.type != .any,
                question.questionClass == MDNSConstants.classIN
            {
                result.append(nsec(of: registration))
            }
        }
        return result
    }

    /// The additional records for `answers` (RFC 6763 §12, RFC 6762 §6.2): PTR → SRV,
    /// TXT and addresses; SRV → addresses; an address → the other family; NSEC for a
    /// family the host lacks.
    func additionals(for answers: [DNSRecord]) -> [DNSRecord] {
        var result: [DNSRecord] = []
        func add(_ records: [DNSRecord]) {
            for record in records
            where !answers.contains(where: { $0.sameData(as: record) })
                && !result.contains(where: { $0.sameData(as: record) })
            {
                result.append(record)
            }
        }
        let hostRecords: [DNSRecord] = {
            guard host.phase.isAuthoritative else { return [] }
            let addresses = unique(of: host)
            return Set(addresses.map(\.type)).count < 2 ? addresses + [nsec(of: host)] : addresses
        }()
        for answer in answers {
            switch answer.data {
            case .ptr(let target):
                if let service = services.values.first(where: { $0.name == target && $0.phase.isAuthoritative }) {
                    add(unique(of: service))
                    add(hostRecords)
                }
            case .srv:
                add(hostRecords)
            case .a, .aaaa:
                if answer.name == host.name { add(hostRecords) }
            default:
                break
            }
        }
        return result
    }
}
