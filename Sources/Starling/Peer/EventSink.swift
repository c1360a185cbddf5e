import Synchronization

/// Counts the events of each kind yielded to ``Peer/events`` and not yet read, so that
/// the producer can bound them (``Peer/EventLimits``), and counts what it refused.
final class EventBacklog: Sendable {
    private struct State {
        /// Unread events, by ``EventKind`` raw value.
        var unread = [Int](repeating: 0, count: EventKind.allCases.count)
        /// Payload bytes of the unread messages.
        var unreadMessageBytes = 0
        var dropped = Peer.DroppedEvents()
    }

    private let state = Mutex(State())
    let limits: Peer.EventLimits

    init(limits: Peer.EventLimits) {
        self.limits = limits
    }

    /// Claims room for `event`; `false` (and counted) when its kind's bound is reached.
    func admit(_ event: Peer.Event) -> Bool {
        let kind = event.kind
        let bytes = event.messageBytes
        return state.withLock { state in
            let fits =
                state.unread[kind.rawValue] < limits.limit(of: kind)
                && (kind != .message || state.unreadMessageBytes + bytes <= limits.messageBytes)
            guard fits else {
                state.dropped[kind] &+= 1
                return false
            }
            state.unread[kind.rawValue] += 1
            state.unreadMessageBytes += bytes
            return true
        }
    }

    /// `event`, admitted before, was read.
    func consumed(_ event: Peer.Event) {
        let kind = event.kind
        let bytes = event.messageBytes
        state.withLock { state in
            state.unread[kind.rawValue] -= 1
            state.unreadMessageBytes -= bytes
        }
    }

    /// Events dropped so far, by kind.
    var dropped: Peer.DroppedEvents { state.withLock { $0.dropped } }

    /// Events waiting to be read now, by kind.
    func unread(_ kind: EventKind) -> Int { state.withLock { $0.unread[kind.rawValue] } }
}

/// Where a peer's events go: into ``Peer/events`` when their kind has room, else
/// counted as dropped (``EventBacklog``). Every event, stream messages included, comes
/// from the peer's core on its event loop.
final class EventSink: Sendable {
    let backlog: EventBacklog
    private let output: AsyncStream<Peer.Event>.Continuation

    /// Makes the sink and the ``Peer/Events`` it fills.
    static func make(limits: Peer.EventLimits) -> (EventSink, Peer.Events) {
        let backlog = EventBacklog(limits: limits)
        let (stream, output) = AsyncStream<Peer.Event>.makeStream()
        return (EventSink(backlog: backlog, output: output), Peer.Events(stream: stream, backlog: backlog))
    }

    private init(backlog: EventBacklog, output: AsyncStream<Peer.Event>.Continuation) {
        self.backlog = backlog
        self.output = output
    }

    /// Passes `event` to the reader if its kind has room; drops and counts it if not.
    func yield(_ event: Peer.Event) {
        guard backlog.admit(event) else { return }
        if case .terminated = output.yield(event) { backlog.consumed(event) }
    }

    /// Ends the events; later events are ignored.
    func finish() {
        output.finish()
    }
}
