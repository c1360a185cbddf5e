extension OverlayCore {
    // MARK: Admission of received datagrams

    /// Runs a received datagram through the cheap checks, in order: the source's and
    /// the total rate limits, the replay cache (sealed only, before the AEAD work), the
    /// envelope, then the replay cache's floor and insertion (after the AEAD tag
    /// verified); credits its bytes to the source's address.
    /// - Returns: the opened message, or nil when the datagram was dropped (and counted).
    mutating func admitReceived(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) -> (
        protocolKind: OverlayProtocol, message: ArraySlice<UInt8>
    )? {
        if let drop = rateLimits.admit(source, now: now) {
            statistics.drops[drop, default: 0] += 1
            return nil
        }
        let wallNow = wallClock(at: now)
        let nonce = envelope.isSealed ? OverlayReplayCache.Nonce(ofSealed: datagram) : nil
        if let nonce, replayCache.contains(nonce, now: wallNow) {
            statistics.drops[.replayed, default: 0] += 1
            return nil
        }
        let opened: (protocolKind: OverlayProtocol, message: ArraySlice<UInt8>, sentAt: UnixTime?)
        do {
            opened = try envelope.open(datagram, now: wallNow)
        } catch {
            statistics.drops[error, default: 0] += 1
            return nil
        }
        if let nonce, let sentAt = opened.sentAt {
            let drop: OverlayDrop? =
                switch replayCache.insert(nonce, sentAt: sentAt, now: wallNow) {
                case .fresh: nil
                case .replayed: .replayed
                case .belowFloor: .belowReplayFloor
                }
            if let drop {
                statistics.drops[drop, default: 0] += 1
                return nil
            }
        }
        addressValidation.noteReceived(
            from: source, bytes: datagram.count, isCheck: opened.protocolKind == .addressCheck, now: now)
        return (opened.protocolKind, opened.message)
    }

    /// Answers a challenge, or takes a response that proves `source`'s address.
    mutating func handleAddressCheck(_ message: ArraySlice<UInt8>, from source: PeerAddress, now: Instant) {
        do {
            addressValidation.handle(try AddressCheckMessage.decode(message), from: source, now: now)
        } catch {
            statistics.drops[error, default: 0] += 1
        }
    }

    // MARK: Admission of datagrams to send

    /// Writes the next datagram address validation wants sent (a check, or a datagram
    /// released by a proof) into `buffer`.
    /// - Returns: its destination, or nil when there is none.
    mutating func pollAdmissionTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        guard let outbound = addressValidation.pollOutbound() else { return nil }
        switch outbound {
        case .check(let check, let destination):
            check.encode(into: &message)
            envelope.encode(.addressCheck, message, sentAt: wallClock(at: now), into: &buffer, using: &random)
            statistics.sent[.addressCheck, default: 0] += 1
            statistics.sentBytes[.addressCheck, default: 0] += buffer.count
            return destination
        case .released(let held, let destination):
            buffer.removeAll(keepingCapacity: true)
            buffer.append(contentsOf: held.bytes)
            statistics.sent[held.kind, default: 0] += 1
            statistics.sentBytes[held.kind, default: 0] += buffer.count
            return destination
        }
    }

    /// Whether the encoded `datagram` of `kind` may go to `destination` now; if not,
    /// address validation holds a copy until the address proves it receives.
    mutating func admitToSend(_ datagram: [UInt8], kind: OverlayProtocol, to destination: PeerAddress, now: Instant)
        -> Bool
    {
        // The LAN group channel is the multicast group this peer was configured with: it
        // never answers an address check, and what goes there stays on the segment.
        if destination == groups.lanChannel { return true }
        let admission = addressValidation.admit(datagram, kind: kind, to: destination, now: now)
        return admission == .send
    }
}
