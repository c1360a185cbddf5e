/// A ``GroupsCore``'s counters.
public struct GroupStatistics: Equatable, Sendable {
    /// Messages this peer sent to groups (as origin).
    public internal(set) var originated = 0
    /// Messages delivered to this peer's user.
    public internal(set) var delivered = 0
    /// Of ``delivered``, those that came by LAN multicast.
    public internal(set) var deliveredViaLAN = 0
    /// Copies of messages pushed to links (data messages sent by unicast).
    public internal(set) var pushed = 0
    /// IP multicast datagrams sent to the LAN channel with a message.
    public internal(set) var multicast = 0
    /// Copies received that were delivered before.
    public internal(set) var duplicates = 0
    /// Messages that did not open under the group key (forged, or sealed with another).
    public internal(set) var unauthentic = 0
    /// Messages for a group this peer has not joined.
    public internal(set) var notMember = 0
    /// Messages asked for after an announcement (grafts sent).
    public internal(set) var grafts = 0
    /// Announced messages that never arrived, every announcer asked.
    public internal(set) var unrecovered = 0
    /// Links moved to lazy after a duplicate (prunes sent).
    public internal(set) var prunes = 0
    /// Links refused (full) or timed out unanswered.
    public internal(set) var linksRefused = 0
    /// Registrations refused by this rendezvous peer (its tables full).
    public internal(set) var registrationsRefused = 0
    /// Messages from a new origin dropped because ``GroupConstants/maximumOrigins`` were
    /// tracked.
    public internal(set) var originsRefused = 0
    /// Messages of announcements not tracked (``GroupConstants/maximumMissing``).
    public internal(set) var missingRefused = 0
    /// Group messages that could not be decoded.
    public internal(set) var malformed = 0
    /// Group messages from a sender that is no live member at the datagram's source.
    public internal(set) var unknownSenders = 0
}
