/// Reading responses into the cache.
extension MDNSBrowser {
    public mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        guard isLinkUp else { return drop(.linkDown) }
        guard let message = try? DNSMessage.decode(datagram) else { return drop(.malformed) }
        guard message.opcode == 0, message.rcode == 0 else { return drop(.badHeader) }
        guard message.isResponse else {
            if source.port == MDNSConstants.port { suppressDuplicateQuestions(message, now: now) }
            return
        }
        guard source.port == MDNSConstants.port else { return drop(.responseFromWrongPort) }
        handleResponse(message, from: source, now: now)
    }

    mutating func drop(_ reason: Drop) {
        drops[reason, default: 0] += 1
    }

    /// Caches the records that answer a question of this browser (PTR first, then SRV,
    /// so that an instance's SRV, TXT and addresses in the same packet are wanted), after
    /// applying cache-flush bits (RFC 6762 §10.2).
    mutating func handleResponse(_ message: DNSMessage, from source: PeerAddress, now: Instant) {
        let records = (message.answers + message.additionals).sorted { Self.order($0.type) < Self.order($1.type) }
        let packet = Set(records.map(RecordKey.init))
        for record in records where record.cacheFlush && record.ttl > 0 && wants(record) {
            cache.flush(like: record, keeping: packet, now: now)
        }
        for record in records where record.recordClass == MDNSConstants.classIN {
            guard wants(record) else { continue }
            cache.insert(record, from: source.host, now: now, using: &random)
            if record.type == .ptr || record.type == .srv { syncQuestions(now: now) }
        }
        syncQuestions(now: now)
        report()
    }

    /// Processing order of record types within one packet.
    static func order(_ type: DNSRecordType) -> Int {
        switch type {
        case .ptr: 0
        case .srv: 1
        default: 2
        }
    }
}

extension MDNSBrowser {
    /// Duplicate question suppression (RFC 6762 §7.3): another host's multicast (QM)
    /// query asking one of this browser's questions, whose known answers are all ones this
    /// browser would list too, draws every answer this browser needs; treat its own next
    /// query for that question as sent.
    mutating func suppressDuplicateQuestions(_ query: DNSMessage, now: Instant) {
        guard !query.isTruncated else { return }
        for question in query.questions where !question.unicastResponse {
            let key = QuestionKey(name: question.name, type: question.type)
            guard var active = questions[key], active.sent > 0, let due = active.nextQuery, due > now else { continue }
            let ours = cache.entries(named: key.name, type: key.type).filter { $0.isFresh(at: now) }.map(\.record)
            let theirs = query.answers.filter { question.isAnswered(by: $0) }
            guard theirs.allSatisfy({ known in ours.contains { $0.sameData(as: known) } }) else { continue }
            active.sent += 1
            active.nextQuery = now + active.interval
            active.interval = Self.nextInterval(after: active.interval, maximum: configuration.maximumQueryInterval)
            questions[key] = active
        }
    }
}
