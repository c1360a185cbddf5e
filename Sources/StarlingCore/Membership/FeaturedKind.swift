/// Whose featured members a partial view holds (``MembershipView``), which decides how it
/// takes them in and what its scoped answers carry.
public enum FeaturedKind: Equatable, Sendable {
    /// The same few members for every peer of the swarm: a super-peer topology's
    /// super-peers, a hybrid swarm's index servers. A partial view takes new members only
    /// from a scoped answer of a member it holds, and a scoped answer carries the
    /// answerer's own record and the featured members it holds live.
    case shared
    /// This peer's own: the contacts of a pure overlay's Kademlia table, different at
    /// every peer. A partial view takes a featured member in from the member's own claim,
    /// verified, wherever it comes from (``MembershipCore/introduce(_:at:now:)`` asks the
    /// member for it), and nobody else; a scoped answer carries the answerer's own record
    /// alone, since its featured are nobody else's.
    case own
}
