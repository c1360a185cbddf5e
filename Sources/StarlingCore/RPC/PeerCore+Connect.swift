/// Connects that a caller waits on: one ``PeerEvent/connectFinished(_:_:)`` per
/// ``ConnectID``, when the session is up, its handshake failed, or the timeout passed.
extension PeerCore {
    // MARK: Commands

    /// Starts a handshake with the peer at `address`, as ``connect(to:expecting:now:)``
    /// does, and waits for its outcome: exactly one ``PeerEvent/connectFinished(_:_:)``
    /// with the returned ID follows.
    ///
    /// The connect finishes ``ConnectOutcome/established(_:)`` when a session with
    /// `expected` is established (at once when one already is), or, without `expected`,
    /// a session with whoever answers at `address`; ``ConnectOutcome/handshakeFailed(_:)``
    /// when the handshake to `address` for `expected` fails; and
    /// ``ConnectOutcome/timedOut(address:after:)`` at `now + timeout` otherwise. Use
    /// ``cancelConnect(_:)`` when the caller stops waiting.
    /// - Parameters:
    ///   - address: where the peer listens.
    ///   - expected: the peer that must answer (Noise IK), or `nil` for whoever does (XX).
    ///   - timeout: how long to wait for the session.
    ///   - now: the current time.
    /// - Returns: the ID that the connect's ``PeerEvent/connectFinished(_:_:)`` carries.
    public mutating func connect(
        to address: PeerAddress, expecting expected: PeerID?, timeout: Duration, now: Instant
    ) -> ConnectID {
        let id = connects.add(address: address, expected: expected, timeout: timeout, now: now)
        if let expected, endpoint.isEstablished(with: expected) {
            connects.remove(id)
            events.append(.connectFinished(id, .established(expected)))
            return id
        }
        connect(to: address, expecting: expected, now: now)
        return id
    }

    /// Stops waiting on connect `id`: no ``PeerEvent/connectFinished(_:_:)`` follows.
    /// The handshake goes on, and a session it makes stays up. Does nothing when the
    /// connect has finished already.
    public mutating func cancelConnect(_ id: ConnectID) {
        connects.remove(id)
    }

    /// Connects still waiting for their outcome.
    public var pendingConnectCount: Int { connects.count }

    // MARK: Session hooks

    /// Call after a session with `peer` is established: finishes the connects it settles.
    mutating func connectsEstablished(_ peer: PeerID, at address: PeerAddress) {
        for id in connects.removeEstablished(peer, at: address) {
            events.append(.connectFinished(id, .established(peer)))
        }
    }

    /// Call after a handshake to `address` for `expected` failed: finishes the connects
    /// that waited on it.
    mutating func connectsFailed(at address: PeerAddress, expecting expected: PeerID?, error: SessionError) {
        for id in connects.removeFailed(at: address, expecting: expected) {
            events.append(.connectFinished(id, .handshakeFailed(error)))
        }
    }

    /// Finishes the connects whose timeout passed at `now`.
    mutating func expiredConnects(now: Instant) {
        for (id, wait) in connects.removeExpired(now: now) {
            events.append(.connectFinished(id, .timedOut(address: wait.address, after: wait.timeout)))
        }
    }
}
