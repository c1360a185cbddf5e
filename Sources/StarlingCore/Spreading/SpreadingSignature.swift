/// What the origin of a gossip message or a query, and the responder of a query hit,
/// sign: the bytes that make a spreading message's origin a fact rather than a claim.
///
/// Each is an Ed25519 signature by the peer ID (which is the public key) of
///
///     gossip     "starling/spreading/gossip/v1" ‖ 0x00 ‖ swarm ID (32) ‖ message ID (16) ‖ origin ID (32)
///                ‖ payload length u16 ‖ payload
///     query      "starling/spreading/query/v1" ‖ 0x00 ‖ swarm ID (32) ‖ query ID (16) ‖ origin ID (32)
///                ‖ flags u8 ‖ payload length u16 ‖ payload
///     query hit  "starling/spreading/query-hit/v1" ‖ 0x00 ‖ swarm ID (32) ‖ query ID (16)
///                ‖ query's origin ID (32) ‖ responder ID (32) ‖ payload length u16 ‖ payload
///
/// The hop count and the TTL are left out: every forwarding peer changes them, so they
/// stay claims (bounded by ``SpreadingConfiguration/maximumGossipHops`` and
/// ``SpreadingConfiguration/maximumTTL``). The domain label keeps a signature from serving
/// another kind or another Starling protocol; the swarm ID keeps it from serving another
/// swarm; a hit names the query and the peer that asked, so it answers that query only.
public enum SpreadingSignature {
    /// The bytes the origin of gossip message `id` signs.
    public static func gossipBytes(swarmID: [UInt8], id: SpreadingID, origin: PeerID, payload: [UInt8]) -> [UInt8] {
        var writer = start(SpreadingConstants.gossipDomain, swarmID: swarmID, id: id, payloadSize: payload.count)
        origin.write(into: &writer)
        finish(payload, into: &writer)
        return writer.bytes
    }

    /// The bytes the origin of query `id` signs.
    public static func queryBytes(
        swarmID: [UInt8], id: SpreadingID, origin: PeerID, wantsNotices: Bool, payload: [UInt8]
    ) -> [UInt8] {
        var writer = start(SpreadingConstants.queryDomain, swarmID: swarmID, id: id, payloadSize: payload.count + 1)
        origin.write(into: &writer)
        writer.write(wantsNotices ? SpreadingConstants.queryWantsNotices : 0)
        finish(payload, into: &writer)
        return writer.bytes
    }

    /// The bytes `responder` signs to answer query `id` from `queryOrigin`.
    public static func queryHitBytes(
        swarmID: [UInt8], id: SpreadingID, queryOrigin: PeerID, responder: PeerID, payload: [UInt8]
    ) -> [UInt8] {
        var writer = start(
            SpreadingConstants.queryHitDomain, swarmID: swarmID, id: id,
            payloadSize: payload.count + SpreadingConstants.peerIDSize)
        queryOrigin.write(into: &writer)
        responder.write(into: &writer)
        finish(payload, into: &writer)
        return writer.bytes
    }

    private static func start(_ domain: [UInt8], swarmID: [UInt8], id: SpreadingID, payloadSize: Int) -> ByteWriter {
        var writer = ByteWriter(
            capacity: domain.count + swarmID.count + SpreadingConstants.idSize + SpreadingConstants.peerIDSize + 2
                + payloadSize)
        writer.write(bytes: domain)
        writer.write(bytes: swarmID)
        writer.write(id)
        return writer
    }

    private static func finish(_ payload: [UInt8], into writer: inout ByteWriter) {
        // A payload too long for its length field is refused by the encoder; clamping
        // here only keeps this function total.
        writer.write(UInt16(clamping: payload.count))
        writer.write(bytes: payload)
    }
}

extension SpreadingMessage {
    /// A gossip message signed by its origin, `identity`.
    /// - Parameters:
    ///   - id: the message ID.
    ///   - hops: links travelled so far (not signed).
    ///   - payload: the application's bytes.
    ///   - swarmID: the 32-byte swarm ID the signature is bound to.
    ///   - identity: the origin.
    public static func signedGossip(
        id: SpreadingID, hops: UInt8, payload: [UInt8], swarmID: [UInt8], by identity: IdentityKeyPair
    ) -> SpreadingMessage {
        let signed = SpreadingSignature.gossipBytes(swarmID: swarmID, id: id, origin: identity.peerID, payload: payload)
        return .gossip(id: id, origin: identity.peerID, hops: hops, payload: payload, signature: identity.sign(signed))
    }

    /// A query signed by its origin, `identity`.
    /// - Parameters:
    ///   - id: the query ID.
    ///   - ttl: links it may still travel (not signed).
    ///   - hops: links travelled so far (not signed).
    ///   - wantsNotices: whether TTL-exceeded notices should come back.
    ///   - payload: the application's search bytes.
    ///   - swarmID: the 32-byte swarm ID the signature is bound to.
    ///   - identity: the origin.
    public static func signedQuery(
        id: SpreadingID, ttl: UInt8, hops: UInt8, wantsNotices: Bool, payload: [UInt8], swarmID: [UInt8],
        by identity: IdentityKeyPair
    ) -> SpreadingMessage {
        let signed = SpreadingSignature.queryBytes(
            swarmID: swarmID, id: id, origin: identity.peerID, wantsNotices: wantsNotices, payload: payload)
        return .query(
            id: id, origin: identity.peerID, ttl: ttl, hops: hops, wantsNotices: wantsNotices, payload: payload,
            signature: identity.sign(signed))
    }

    /// A query hit signed by its responder, `identity`.
    /// - Parameters:
    ///   - id: the ID of the query answered.
    ///   - queryOrigin: the peer that sent the query.
    ///   - hops: links travelled so far (not signed).
    ///   - payload: the answer's bytes.
    ///   - swarmID: the 32-byte swarm ID the signature is bound to.
    ///   - identity: the responder.
    public static func signedQueryHit(
        id: SpreadingID, queryOrigin: PeerID, hops: UInt8, payload: [UInt8], swarmID: [UInt8],
        by identity: IdentityKeyPair
    ) -> SpreadingMessage {
        let signed = SpreadingSignature.queryHitBytes(
            swarmID: swarmID, id: id, queryOrigin: queryOrigin, responder: identity.peerID, payload: payload)
        return .queryHit(
            id: id, responder: identity.peerID, hops: hops, payload: payload, signature: identity.sign(signed))
    }
}
