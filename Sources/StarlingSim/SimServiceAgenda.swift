internal import HeapModule
internal import StarlingCore

/// When an agenda entry is due: ordered by time, then by the sequence number that
/// ``SimEventQueue/takeSequence()`` handed out, so that entries of two agendas merge in
/// the order they were scheduled.
struct SimAgendaKey: Comparable {
    /// When it happens.
    var time: Instant
    /// Scheduling order; unique per network.
    var sequence: UInt64

    static func < (lhs: SimAgendaKey, rhs: SimAgendaKey) -> Bool {
        (lhs.time, lhs.sequence) < (rhs.time, rhs.sequence)
    }
}

/// The ends of the services that hosted nodes' work is receiving, earliest first.
///
/// Kept apart from ``SimEventQueue`` so that a network without hosts schedules exactly
/// what it did before hosts existed; the network merges the two by ``SimAgendaKey``.
struct SimServiceAgenda {
    /// One service in progress.
    struct Entry: Comparable {
        /// When the service ends.
        var key: SimAgendaKey
        /// The node being served.
        var node: SimNodeID

        static func < (lhs: Entry, rhs: Entry) -> Bool { lhs.key < rhs.key }

        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.key == rhs.key }
    }

    private var heap = Heap<Entry>()

    /// Services in progress.
    var count: Int { heap.count }

    /// Schedules the end of `node`'s service.
    mutating func schedule(_ key: SimAgendaKey, node: SimNodeID) {
        heap.insert(Entry(key: key, node: node))
    }

    /// The key of the earliest service end, if any.
    var nextKey: SimAgendaKey? { heap.min?.key }

    /// Removes and returns the earliest service end.
    mutating func popNext() -> Entry? { heap.popMin() }
}
