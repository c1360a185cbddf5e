/// Which index servers hold a key: rendezvous (highest random weight) hashing.
///
/// ### Rule
/// Each index server `s` scores key `k` (a ``RoutingKey``: of a peer ID or a service
/// name) as `mix(k ⊕ s)`, where `s` is the server's peer ID read as four big-endian
/// 64-bit words, `⊕` XORs word by word and `mix` folds the four words through the
/// SplitMix64 finaliser (documented in `docs/PROTOCOL.md`). The `replication` servers
/// with the highest scores hold the key, best first; ties (never seen in practice) go
/// to the lower peer ID.
///
/// Every party computes the same placement from the same server list, with no
/// coordination; adding or losing a server moves only the keys it held or now holds
/// (about `replication / servers` of them), which is why several index servers share
/// the load instead of each holding everything.
public enum IndexPlacement {
    /// The score of `key` at the index server `server`; higher is preferred.
    public static func score(of key: RoutingKey, at server: PeerID) -> UInt64 {
        let serverKey = RoutingKey(bytes: server.bytes) ?? .zero
        var hash: UInt64 = 0
        hash = mix(hash ^ key.words.0 ^ serverKey.words.0)
        hash = mix(hash ^ key.words.1 ^ serverKey.words.1)
        hash = mix(hash ^ key.words.2 ^ serverKey.words.2)
        hash = mix(hash ^ key.words.3 ^ serverKey.words.3)
        return hash
    }

    /// The servers among `servers` that hold `key`, best first, at most `count`.
    public static func holders(of key: RoutingKey, among servers: some Sequence<PeerID>, count: Int) -> [PeerID] {
        let ranked = servers.map { (score: score(of: key, at: $0), id: $0) }.sorted {
            $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id
        }
        return ranked.prefix(max(0, count)).map(\.id)
    }

    /// SplitMix64's finaliser: a bijection of 64-bit words that spreads every input bit.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
