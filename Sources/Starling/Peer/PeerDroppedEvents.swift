extension Peer {
    /// How many events of each kind ``Peer/events`` dropped because their bound in
    /// ``Peer/EventLimits`` was reached: the reader was behind.
    public struct DroppedEvents: Equatable, Sendable {
        /// Session events (up, down, handshake failed).
        public var sessions: UInt64 = 0
        /// Datagram events.
        public var datagrams: UInt64 = 0
        /// Reliable stream messages: lost for good (see ``Peer/EventLimits``).
        public var messages: UInt64 = 0
        /// Membership events.
        public var membership: UInt64 = 0
        /// Broadcast events.
        public var broadcasts: UInt64 = 0
        /// Query events.
        public var queries: UInt64 = 0
        /// Query hit events.
        public var queryHits: UInt64 = 0
        /// Notice events.
        public var notices: UInt64 = 0

        /// No drops.
        public init() {}

        /// Every kind together.
        public var total: UInt64 {
            sessions + datagrams + messages + membership + broadcasts + queries + queryHits + notices
        }

        /// The count of `kind`.
        subscript(kind: EventKind) -> UInt64 {
            get {
                switch kind {
                case .session: sessions
                case .datagram: datagrams
                case .message: messages
                case .membership: membership
                case .broadcast: broadcasts
                case .query: queries
                case .queryHit: queryHits
                case .notice: notices
                }
            }
            set {
                switch kind {
                case .session: sessions = newValue
                case .datagram: datagrams = newValue
                case .message: messages = newValue
                case .membership: membership = newValue
                case .broadcast: broadcasts = newValue
                case .query: queries = newValue
                case .queryHit: queryHits = newValue
                case .notice: notices = newValue
                }
            }
        }
    }
}
