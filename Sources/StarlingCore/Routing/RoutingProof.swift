/// The proof a routing contact gives that it owns its peer ID and receives at its
/// address, before it may enter a routing table (S/Kademlia's proof of ID, made
/// interactive so that it is also a proof of address).
///
/// A peer that meets a contact it has not proven sends it a `PROVE` challenge: fresh
/// random bytes, to the address it met the contact at, naming that address. The
/// contact answers with a `PROOF`: its Ed25519 signature, by its peer ID (which is its
/// public key), of
///
///     "starling/routing/proof/v1" ‖ 0x00 ‖ nonce (32) ‖ address (family, host, port) ‖ challenger ID (32)
///
/// Only a peer at that address learns the nonce, and only the ID's owner can sign it;
/// naming the challenger stops a proof made for one peer from serving another, and
/// naming the address lets the signer refuse addresses that are not its own.
public enum RoutingProof {
    /// The bytes a proof signs.
    public static func signedBytes(nonce: some Collection<UInt8>, address: PeerAddress, challenger: PeerID) -> [UInt8] {
        var writer = ByteWriter(capacity: 128)
        writer.write(bytes: RoutingConstants.proofDomain)
        writer.write(bytes: Array(nonce))
        RoutingContact.encode(address, into: &writer)
        challenger.write(into: &writer)
        return writer.bytes
    }

    /// The proof `identity` gives for a challenge from `challenger` sent to `address`.
    public static func sign(
        nonce: some Collection<UInt8>, address: PeerAddress, challenger: PeerID, with identity: IdentityKeyPair
    ) -> [UInt8] {
        identity.sign(signedBytes(nonce: nonce, address: address, challenger: challenger))
    }

    /// Whether `signature` is `prover`'s proof for the challenge.
    public static func verify(
        _ signature: some Collection<UInt8>, by prover: PeerID, nonce: some Collection<UInt8>, address: PeerAddress,
        challenger: PeerID
    ) -> Bool {
        prover.verify(signature: signature, of: signedBytes(nonce: nonce, address: address, challenger: challenger))
    }
}
