/// The peers a topology makes the authorities for names, and which of them hold a key.
///
/// ### Purpose
/// In the hybrid topology the index servers that are up hold the swarm's name chains; in
/// the super-peer topology the super-peers do; the pure topology has none, and chains
/// live at the Kademlia peers closest to their keys. Among the authorities a key is held
/// by the ``replication`` with the highest rendezvous scores (``IndexPlacement``, the
/// rule that places the index servers' registrations), so that every party that knows
/// the same authorities computes the same holders with no coordination, and a change
/// of authorities moves only the keys the changed ones held or now hold.
///
/// A peer whose view of the authorities may lag (a super-peer leaf, which hears of
/// super-peers through its membership) also has ``gateways``: authorities it asks and
/// stores at besides the holders it computed (its attached super-peers, whose view is
/// complete), which refer it to the holders, or pass its chains on to them, when their
/// view differs.
///
/// The routing core uses it three ways (``RoutingCore/setNameAuthorities(_:now:)``):
/// publishers store at the holders and resolvers ask them; an authority refers a
/// `FIND_NAME` to the holders it knows and passes on a `STORE_NAME` it does not hold
/// (views of the authorities differ for a while after a change); and when the
/// authorities change, an authority hands its chains to their new holders.
public struct NameAuthorities: Hashable, Sendable {
    /// The authorities, with where they receive overlay datagrams.
    public private(set) var members: [PeerID: PeerAddress]
    /// How many authorities hold each key.
    public let replication: Int
    /// Authorities asked besides the holders of every key, best first.
    public private(set) var gateways: [RoutingContact]

    /// No authorities: names live in the Kademlia overlay.
    public static let none = NameAuthorities(members: [:], replication: 1)

    /// Authorities `members`, each key held by `replication` of them (at least 1), and
    /// `gateways` asked besides.
    public init(members: [PeerID: PeerAddress], replication: Int, gateways: [RoutingContact] = []) {
        self.members = members
        self.replication = max(1, replication)
        self.gateways = gateways
    }

    /// Whether the topology has no authority up.
    public var isEmpty: Bool { members.isEmpty }

    /// Whether `peer` is an authority.
    public func contains(_ peer: PeerID) -> Bool { members[peer] != nil }

    /// The authorities that hold `key`, best first.
    public func holders(of key: RoutingKey) -> [RoutingContact] {
        holderIDs(of: key).compactMap { id in members[id].map { RoutingContact(peerID: id, address: $0) } }
    }

    /// Whom a request for `key` goes to: its holders, then the gateways that are not
    /// among them.
    public func contacts(for key: RoutingKey) -> [RoutingContact] {
        let holders = holders(of: key)
        return holders + gateways.filter { gateway in !holders.contains { $0.peerID == gateway.peerID } }
    }

    /// The IDs of the authorities that hold `key`, best first.
    public func holderIDs(of key: RoutingKey) -> [PeerID] {
        IndexPlacement.holders(of: key, among: members.keys, count: replication)
    }
}
