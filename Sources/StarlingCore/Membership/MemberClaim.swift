/// What only a member may say about itself: that it is alive, or has left, at an
/// incarnation and an address, signed by its identity (the key its peer ID is).
///
/// Everything else membership carries is hearsay: a suspicion or a death names an
/// accuser, but anyone could have sent it, so it only ever leads to probing
/// (``MembershipCore``). A claim is signed once per incarnation, so a member signs
/// again only when it refutes or leaves; receivers verify a claim only when it is
/// newer than what they hold, through a ``ClaimVerifier`` that a process may share
/// among its peers.
///
/// The signed bytes:
///
///     "starling/member/claim/v1" ‖ 0x00 ‖ swarm ID (32) ‖ state u8 ‖ incarnation u32 ‖
///     member ID (32) ‖ family u8 ‖ host (4 or 16) ‖ port u16
///
/// The swarm ID keeps a claim made in one swarm from serving in another; the address
/// keeps anyone else from moving a member (only the member can sign where it is).
public enum MemberClaim {
    /// The domain label that starts the signed bytes.
    public static let domain = Array("starling/member/claim/v1".utf8) + [0]

    /// The bytes a claim signs.
    /// - Precondition: `state` is alive or left (the only states a member claims).
    public static func signedBytes(
        swarmID: [UInt8], state: MemberState, incarnation: UInt32, member: PeerID, address: PeerAddress
    ) -> [UInt8] {
        var writer = ByteWriter(capacity: domain.count + 32 + 1 + 4 + 32 + 19)
        writer.write(bytes: domain)
        writer.write(bytes: swarmID)
        writer.write(state.rawValue)
        writer.write(incarnation)
        member.write(into: &writer)
        writer.writeMembershipAddress(address)
        return writer.bytes
    }

    /// The signature `identity` gives its own claim.
    public static func sign(
        swarmID: [UInt8], state: MemberState, incarnation: UInt32, address: PeerAddress, with identity: IdentityKeyPair
    ) -> ClaimSignature {
        let bytes = signedBytes(
            swarmID: swarmID, state: state, incarnation: incarnation, member: identity.peerID, address: address)
        // An Ed25519 signature is always 64 bytes.
        return ClaimSignature(identity.sign(bytes))!
    }

    /// Whether `update` is an alive or left claim carrying its member's valid signature.
    public static func isValid(_ update: MemberUpdate, swarmID: [UInt8]) -> Bool {
        guard update.state == .alive || update.state == .left, let signature = update.signature else { return false }
        let bytes = signedBytes(
            swarmID: swarmID, state: update.state, incarnation: update.incarnation, member: update.member,
            address: update.address)
        return update.member.verify(signature: signature.bytes, of: bytes)
    }
}
