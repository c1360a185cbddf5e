/// Reading responses into the cache.
extension MDNSBrowser {
    public mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        guard isLinkUp else { return drop(.linkDown) }
        guard let message = try? DNSMessage.decode(datagram) else { return drop(.malformed) }
        guard message.opcode == 0, message.rcode == 0 else { return drop(.badHeader) }
        // Queries are for responders; duplicate question suppression (§7.3) is not done.
        guard message.isResponse else { return }
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
