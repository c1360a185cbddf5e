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

    /// No authorities: names live in the Kademlia overlay.
    public static let none = NameAuthorities(members: [:], replication: 1)

    /// Authorities `members`, each key held by `replication` of them (at least 1).
    public init(members: [PeerID: PeerAddress], replication: Int) {
        self.members = members
        self.replication = max(1, replication)
    }

    /// Whether the topology has no authority up.
    public var isEmpty: Bool { members.isEmpty }

    /// Whether `peer` is an authority.
    public func contains(_ peer: PeerID) -> Bool { members[peer] != nil }

    /// The authorities that hold `key`, best first.
    public func holders(of key: RoutingKey) -> [RoutingContact] {
        holderIDs(of: key).compactMap { id in members[id].map { RoutingContact(peerID: id, address: $0) } }
    }

    /// The IDs of the authorities that hold `key`, best first.
    public func holderIDs(of key: RoutingKey) -> [PeerID] {
        IndexPlacement.holders(of: key, among: members.keys, count: replication)
    }
}
