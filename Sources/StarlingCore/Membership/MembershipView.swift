/// Which members a ``MembershipCore`` holds.
///
/// SWIM gives every peer every member, which is what failure detection among equals
/// needs. A super-peer topology's leaf needs far less: its super-peers answer for
/// everyone else, so it holds them alone (the super-peers hold everyone). In a swarm of
/// `N` peers and `S` super-peers that is `S` members a leaf instead of `N`, and
/// `N × S` (peer, member) pairs in the swarm instead of `N²`.
///
/// A pure overlay's peer in a very large swarm holds only the contacts of its Kademlia
/// table (``OverlayConfiguration/pureViewThreshold``): featured members of its own
/// (``FeaturedKind/own``). The rules below are those of shared featured members
/// (``FeaturedKind/shared``); where those of its own differ, each rule says how.
///
/// ### Rules of a partial view
/// - **Featured members.** The owner names them (``MembershipCore/setFeatured(_:now:)``):
///   the super-peers it knows. Every peer answers a *scoped* request (push-pull flag
///   ``MembershipConstants/pushPullScoped``) with its own record and the featured
///   members it holds live, nobody else (its own record alone when its featured are
///   its own).
/// - **Admission.** A peer with a partial view takes a member it does not hold only
///   from a scoped answer of a member it holds, sent from that member's address (the
///   answerer vouches that it is featured; the claim is still the member's own, signed
///   and verified); news of others in gossip, pings and acks
///   is ignored and counted (``MembershipStatistics/outOfViewIgnored``). News of members
///   it holds, and of itself, is applied as usual. With featured members of its own, it
///   takes a featured member from that member's verified claim in any message, and
///   nobody else.
/// - **State exchange.** Its push-pulls are scoped pulls (its own record, nothing
///   more), and a featured member it does not hold yet (a new super-peer) brings the
///   next one forward (``MembershipCore/refreshView(spacing:now:)``). With featured
///   members of its own it sends none, and asks each featured member it does not hold
///   for its claim itself (``MembershipCore/introduce(_:at:now:)``).
/// - **Digests.** Its pings and acks carry the digest 0, which means "no digest": no
///   sync is asked of it or by it, since its view differs from everyone's on purpose.
/// - **Forgetting.** ``MembershipCore/retain(_:grace:now:)`` drops the
///   members the owner no longer wants (a super-peer that stepped down) with a
///   ``MembershipEvent/forgotten(_:)`` event: the member is not gone, this peer just
///   stops holding it.
/// - **Back to full.** ``MembershipCore/setView(_:now:)`` with ``full`` pulls a random
///   member's whole state at once and again, as after a join, until a whole answer has
///   come; SWIM's sync fills in the rest.
public enum MembershipView: Equatable, Sendable {
    /// Every member (SWIM as usual).
    case full
    /// Only the featured members: a super-peer topology's leaf, a hybrid client or a
    /// pure overlay's peer in a large swarm.
    case partial

    /// The view a peer that counts `members` in its swarm should hold, given the one it
    /// holds now: partial from `threshold` members on, full again below half of it
    /// (hysteresis, so that a count near the threshold does not flip the view), always
    /// full with a threshold of 0.
    static func wanted(forMembers members: Int, threshold: Int, now current: MembershipView) -> MembershipView {
        guard threshold > 0 else { return .full }
        return members >= (current == .partial ? threshold / 2 : threshold) ? .partial : .full
    }
}
