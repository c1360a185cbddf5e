extension RoutingCore {
    /// Feeds one received routing message.
    ///
    /// A request is answered at once; its sender is refreshed in the table when it
    /// proved itself at `source`, and challenged to (see ``RoutingProof``) when it could
    /// take a place there. A reply must match a pending request to the same peer at
    /// the same address, or it is dropped as ``RoutingDropReason/unexpectedResponse``.
    /// Undecodable bytes are dropped as ``RoutingDropReason/malformed``.
    ///
    /// - Parameters:
    ///   - bytes: the message.
    ///   - source: where it came from; replies go there.
    ///   - now: the current time.
    public mutating func handleMessage(_ bytes: ArraySlice<UInt8>, from source: PeerAddress, now: Instant) {
        let now = clamp(now)
        let message: RoutingMessage
        do {
            message = try RoutingMessage.decode(bytes)
        } catch {
            drops[.malformed, default: 0] += 1
            return
        }
        guard message.sender != localID else {
            drops[.fromSelf, default: 0] += 1
            return
        }
        let sender = RoutingContact(peerID: message.sender, address: source)
        if message.body.isResponse {
            handleResponse(message, from: sender, now: now)
        } else {
            answer(message, from: sender, now: now)
            met(sender, now: now)
        }
    }

    /// Answers a request.
    private mutating func answer(_ request: RoutingMessage, from sender: RoutingContact, now: Instant) {
        let k = configuration.bucketSize
        let reply: RoutingMessage.Body
        switch request.body {
        case .ping:
            reply = .pong
        case .findNode(let target):
            reply = .nodes(table.closest(to: target, count: k, excluding: sender.peerID))
        case .findValue(let target):
            let record = target == localID ? localRecord : nil
            reply = .value(
                record: record, closer: table.closest(to: RoutingKey(peer: target), count: k, excluding: sender.peerID))
        case .getProviders(let service):
            let records = providerStore.providers(
                of: service, now: now, limit: RoutingConstants.maximumProvidersPerMessage, using: &random)
            reply = .providers(
                records: records,
                closer: table.closest(to: RoutingKey(service: service), count: k, excluding: sender.peerID))
        case .addProvider(let service, let record):
            guard record.record.peerID == sender.peerID else {
                drops[.notOwnRecord, default: 0] += 1
                reply = .addProviderAck(stored: false)
                break
            }
            if isProven(sender) {
                reply = .addProviderAck(
                    stored: storeProvider(service: service, record: record, address: sender.address, now: now))
            } else if verifiedProvider(record, of: service, now: now),
                challenge(
                    sender, deferring: DeferredProvider(service: service, record: record, requestID: request.requestID),
                    now: now)
            {
                return  // acknowledged once the sender has proved itself
            } else {
                reply = .addProviderAck(stored: false)
            }
        case .prove(let nonce, let address):
            guard let identity, localRecord.map({ $0.record.addresses.contains(address) }) ?? true else {
                drops[.refusedChallenge, default: 0] += 1
                return
            }
            reply = .proof(
                signature: RoutingProof.sign(nonce: nonce, address: address, challenger: request.sender, with: identity)
            )
        case .findName(let target):
            reply = .name(
                chain: nameStore.chain(at: target, now: now), closer: nameReferrals(for: target, asker: sender.peerID))
        case .storeName(let chain):
            let outcome = storeLocally(chain, now: now)
            if outcome == .stored || outcome == .updated { passOnMisplaced(chain, from: sender.peerID, now: now) }
            reply = .storeNameAck(stored: outcome.isHeld)
        case .pong, .nodes, .value, .providers, .addProviderAck, .proof, .name, .storeNameAck:
            return
        }
        enqueueReply(reply, to: request.requestID, at: sender.address)
    }

    /// Encodes `reply` and queues it, trimmed to ``RoutingConfiguration/maximumReplySize``
    /// bytes if need be: the farthest contacts go first, then the last provider records.
    /// The asker still progresses, a little slower, on what is left. A reply that fits is
    /// encoded once.
    private mutating func enqueueReply(_ reply: RoutingMessage.Body, to requestID: UInt64, at address: PeerAddress) {
        var reply = reply
        while let bytes = try? RoutingMessage(requestID: requestID, sender: localID, body: reply).encode() {
            guard bytes.count > configuration.maximumReplySize else { return outgoing.append(bytes, to: address) }
            switch reply {
            case .value(let record, let closer) where !closer.isEmpty:
                reply = .value(record: record, closer: closer.dropLast())
            case .name(let chain, let closer) where !closer.isEmpty:
                reply = .name(chain: chain, closer: closer.dropLast())
            case .providers(let records, let closer) where !closer.isEmpty:
                reply = .providers(records: records, closer: closer.dropLast())
            case .providers(let records, let closer) where !records.isEmpty:
                reply = .providers(records: records.dropLast(), closer: closer)
            case .nodes(let contacts) where !contacts.isEmpty:
                reply = .nodes(contacts.dropLast())
            default:
                // Nothing left to cut: the overlay counts it as oversized and drops it.
                return outgoing.append(bytes, to: address)
            }
        }
    }

    /// Verifies and stores a provider record whose provider proved it receives at `address`.
    private mutating func storeProvider(
        service: String, record: SignedPeerRecord, address: PeerAddress, now: Instant
    ) -> Bool {
        guard verifiedProvider(record, of: service, now: now) else { return false }
        let wall = wallClock(at: now)
        let recordLeft = Duration.seconds(Int64(clamping: record.record.expiresAt.seconds - wall.seconds))
        let expiresAt = now + min(configuration.providerLifetime, recordLeft)
        switch providerStore.insert(
            service: service, record: record, address: address, expiresAt: expiresAt, now: now,
            diversity: configuration.providerDiversity)
        {
        case .stored, .updated: return true
        case .stale, .full: return false
        case .subnetFull:
            drops[.subnetFull, default: 0] += 1
            return false
        }
    }

    /// Verifies and stores a name chain (anyone may store one: its records are signed by
    /// their zones, and the store keeps only the newest chain per key).
    /// - Returns: what the store did; ``NameStore/InsertOutcome/full`` for a chain that
    ///   does not verify.
    mutating func storeLocally(_ chain: NameChain, now: Instant) -> NameStore.InsertOutcome {
        let wall = wallClock(at: now)
        do {
            try chain.verify(now: wall)
        } catch {
            drops[.invalidRecord, default: 0] += 1
            return .full
        }
        let earliest = chain.records.map(\.record.expiresAt.seconds).min() ?? wall.seconds
        let recordLeft = Duration.seconds(Int64(clamping: earliest - min(earliest, wall.seconds)))
        let outcome = nameStore.insert(
            chain, expiresAt: now + min(configuration.providerLifetime, recordLeft), now: now)
        if outcome == .stale { drops[.staleName, default: 0] += 1 }
        return outcome
    }

    /// Whether `record` is validly signed, unexpired, and lists `service`; counts a failure.
    func verifiedProvider(_ record: SignedPeerRecord, of service: String, now: Instant) -> Bool {
        let valid = (try? record.verify(now: wallClock(at: now))) != nil && record.record.services.contains(service)
        return valid
    }

    /// Matches a reply to its request and hands it on.
    private mutating func handleResponse(_ message: RoutingMessage, from sender: RoutingContact, now: Instant) {
        guard let request = pending[message.requestID], request.peer == sender.peerID,
            request.address == sender.address
        else {
            if let index = expiredRequests.firstIndex(where: { $0.requestID == message.requestID }) {
                addReplySample(now - expiredRequests.remove(at: index).sentAt)
            }
            drops[.unexpectedResponse, default: 0] += 1
            return
        }
        pending[message.requestID] = nil
        addReplySample(now - request.sentAt)
        if case .proof(let nonce, let deferred) = request.purpose {
            return proofArrived(message, for: nonce, deferred: deferred, from: sender, now: now)
        }
        met(sender, now: now)
        switch request.purpose {
        case .evictionPing, .addProvider, .storeName, .proof:
            return
        case .lookup(let id):
            lookupReplied(id, message: message, from: sender, now: now)
        }
    }

    /// Checks a `PROOF`; a valid one admits its sender and completes a deferred `ADD_PROVIDER`.
    private mutating func proofArrived(
        _ message: RoutingMessage, for nonce: [UInt8], deferred: DeferredProvider?, from sender: RoutingContact,
        now: Instant
    ) {
        proving[sender.peerID] = nil
        guard case .proof(let signature) = message.body,
            RoutingProof.verify(
                signature, by: sender.peerID, nonce: nonce, address: sender.address, challenger: localID)
        else {
            drops[.invalidProof, default: 0] += 1
            return
        }
        markProven(sender)
        noteAlive(sender, now: now)
        if let deferred {
            let stored = storeProvider(
                service: deferred.service, record: deferred.record, address: sender.address, now: now)
            enqueueReply(.addProviderAck(stored: stored), to: deferred.requestID, at: sender.address)
        }
    }
}
