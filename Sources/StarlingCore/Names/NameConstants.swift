/// Limits and constants of overlay names. See `docs/PROTOCOL.md`, "Name records".
public enum NameConstants {
    // MARK: Specification (changing any of these changes the protocol)

    /// The name record body's own format version (first body byte).
    public static let formatVersion: UInt8 = 1
    /// Bytes signed before a name record's body, so that its signature can never be
    /// replayed as a signature over any other Starling message.
    public static let signatureDomain: [UInt8] = Array("starling/name-record/v1".utf8) + [0]
    /// Bytes hashed before a zone and a path to make the routing key a chain is stored at.
    public static let keyDomain: [UInt8] = Array("starling/name/v1".utf8) + [0]
    /// Longest label, in bytes (as DNS).
    public static let maximumLabelLength = 63
    /// Longest name in its text form, in bytes (as DNS).
    public static let maximumNameLength = 253
    /// Most labels below the top-level name, and so most delegations a resolution follows.
    public static let maximumDepth = 8
    /// Most addresses a data record lists.
    public static let maximumAddresses = 4
    /// Most service names a data record lists.
    public static let maximumServices = 4
    /// Most text entries a data record carries.
    public static let maximumTextEntries = 4
    /// Longest text key, in bytes.
    public static let maximumTextKeyLength = 16
    /// Longest text value, in bytes.
    public static let maximumTextValueLength = 64
    /// Largest encoded chain (count byte and records), so that a chain and its sender's
    /// header fit one overlay datagram with room for closer contacts.
    public static let maximumChainSize = 1_000
    /// Record kind byte of a delegation (followed by the child zone's key).
    static let kindDelegation: UInt8 = 1
    /// Record kind byte of a data record.
    static let kindData: UInt8 = 2

    // MARK: Implementation (local policy)

    /// The furthest in the future a record's expiry may lie when verified.
    public static let maximumLifetime: Duration = .seconds(7 * 24 * 3600)
    /// The longest a resolver caches anything, whatever a record's TTL says.
    public static let maximumCacheTTL: Duration = .seconds(3600)
    /// How long a resolver remembers that a name does not exist: the most a name
    /// published meanwhile stays unseen by a resolver that asked before.
    public static let negativeTTL: Duration = .seconds(30)
    /// The most records (and, apart, names known missing) a resolver caches.
    public static let cacheCapacity = 4_096
    /// The most resolutions and publications in progress at once per peer; further ones
    /// fail at once with ``NameError/overloaded``.
    public static let maximumRequests = 256
    /// How many index servers hold each chain in a super-peer overlay's authorities (the
    /// hybrid topology's own ``HybridConfiguration/replication`` applies there).
    public static let superPeerReplication = 2
    /// How many of a leaf's attached super-peers its name requests go to besides the
    /// holders it computed (``NameAuthorities/gateways``).
    public static let superPeerGateways = 1
    /// The most authorities one lookup at them asks: the holders it computed, its
    /// gateways, and the holders they refer it to.
    public static let maximumAuthorityCandidates = 12
    /// The most chains an authority hands to new holders per change of the authorities
    /// (so that a change does not fill its pending requests); their publishers'
    /// republishing refills the rest.
    public static let maximumHandoffsPerChange = 256
}
