/// Limits and constants of peer records. See `docs/PROTOCOL.md`, "Peer record".
public enum RecordConstants {
    // MARK: Specification (changing any of these changes the protocol)

    /// The record body's own format version (first body byte).
    public static let formatVersion: UInt8 = 1
    /// Bytes signed before the body, so that a record signature can never be replayed
    /// as a signature over any other Starling message.
    public static let signatureDomain: [UInt8] = Array("starling/peer-record/v1".utf8) + [0]
    /// Most addresses a record may list.
    public static let maximumAddresses = 8
    /// Most service names a record may list.
    public static let maximumServices = 16
    /// Longest service name, in bytes.
    public static let maximumServiceNameLength = 32
    /// Address family byte for IPv4 (followed by 4 bytes and a port).
    public static let familyIPv4: UInt8 = 4
    /// Address family byte for IPv6 (followed by 16 bytes and a port).
    public static let familyIPv6: UInt8 = 6

    /// Largest encoded body: version, peer ID, sequence, expiry, the address list at
    /// its largest IPv6 size, and the service list at its longest names.
    public static let maximumBodySize =
        1 + Key32.size + 8 + 8
        + 1 + maximumAddresses * (1 + 16 + 2)
        + 1 + maximumServices * (1 + maximumServiceNameLength)
    /// Largest signed record: body plus the Ed25519 signature.
    public static let maximumSignedSize = maximumBodySize + IdentityKeyPair.signatureSize

    // MARK: Implementation (local policy)

    /// The furthest in the future a record's expiry may lie when it is verified; a
    /// record that claims more is refused rather than held for years.
    public static let maximumLifetime: Duration = .seconds(30 * 24 * 3600)
}
