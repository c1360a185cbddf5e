/// Sizes, timers and table bounds of Starling request/response (RPC).
///
/// The "Specification" values are protocol: both sides must agree on them, and changing
/// one changes what a peer accepts or relies on (see `docs/PROTOCOL.md`,
/// "Request/response"). The "Implementation" values are this peer's own policy: a peer
/// may pick others without breaking anyone, within the one rule stated on
/// ``responseCacheLifetime``.
public enum RPCConstants {
    // MARK: Specification (changing any of these changes what peers accept or rely on)

    /// Longest method name, in bytes. Names are 1 to 64 of `a`–`z`, `0`–`9`, `.`, `_`,
    /// `/` and `-`, so they are short, printable, and need no Unicode normalisation.
    public static let maximumMethodLength = 64

    /// Longest rejection reason, in bytes of UTF-8. Longer reasons are cut at a
    /// character boundary before sending.
    public static let maximumReasonLength = 256

    /// The largest RPC message (channel byte included): one session payload, which is
    /// ``SessionLimits/maximumTransportPayload`` less the session's one byte of inner
    /// framing (1169 bytes).
    public static let maximumMessageSize = SessionLimits.maximumTransportPayload - 1

    /// Bytes of a request before the method name: channel, request ID, floor,
    /// incarnation, method length.
    public static let requestFixedSize = 1 + 8 + 8 + 4 + 1

    /// Bytes of a response before its body: channel, request ID, status.
    public static let responseHeaderSize = 1 + 8 + 1

    /// The largest payload of a successful response:
    /// `maximumMessageSize - responseHeaderSize` (1159 bytes).
    public static let maximumResponsePayload = maximumMessageSize - responseHeaderSize

    /// The largest request payload for a method of `methodLength` bytes:
    /// `maximumMessageSize - requestFixedSize - methodLength`.
    public static func maximumRequestPayload(methodLength: Int) -> Int {
        maximumMessageSize - requestFixedSize - methodLength
    }

    /// Time after the first copy of a request after which no further copy is sent,
    /// even if the session was lost and remade in between.
    ///
    /// Protocol, not policy: responders remember requests for this long plus the time a
    /// datagram may linger (see ``responseCacheLifetime``), so a requester that resent
    /// for longer could make a peer's handler run twice.
    public static let maximumResendWindow: Duration = .seconds(30)

    // MARK: Implementation (local policy)

    /// Delay after the first copy of a request before the second; it doubles after
    /// every copy. A LAN round trip is well under it, so an answered request is not
    /// resent; lower wastes datagrams on slow handlers, higher slows recovery from loss.
    public static let retransmitBaseDelay: Duration = .milliseconds(250)

    /// Longest wait between two copies of one request (before jitter). With the base
    /// delay, copies go at 0, 0.25, 0.75, 1.75, 3.75, then every 2 s.
    public static let maximumRetransmitDelay: Duration = .seconds(2)

    /// Largest random jitter added to a retransmit delay, in thousandths of it, so that
    /// requests lost together are not resent in lockstep.
    public static let maximumJitterPerMille: Int64 = 100

    /// Most copies of one request sent, the first included. At 30 % loss each way a
    /// copy and its answer both cross with probability 0.49, so twelve copies fail
    /// together with probability 0.51^12 ≈ 3 × 10⁻⁴. Higher costs datagrams to dead peers.
    public static let maximumAttempts = 12

    /// The timeout of a request whose caller names none.
    public static let defaultTimeout: Duration = .seconds(10)

    /// Most incoming requests remembered at once from all peers (running or answered).
    /// Each answered entry holds up to ``maximumMessageSize`` bytes, so the cache costs
    /// at most about 19 MB. When it is full, new requests are rejected as busy rather
    /// than an entry being forgotten early, which could let a handler run twice.
    ///
    /// Rarely reached: a requester's floor forgets its acknowledged requests at once, so
    /// a requester pins about as many entries as it has requests outstanding.
    public static let responseCacheCapacity = 16_384

    /// Most incoming requests remembered from one requester (one incarnation of one
    /// peer), so that one peer cannot take the whole ``responseCacheCapacity``. A
    /// requester with more requests outstanding than this gets some rejected as busy;
    /// higher lets one peer hold more of the shared capacity.
    public static let responseCachePeerCapacity = 4096

    /// Most requesters (incarnations of peers) whose floors are remembered at once. A
    /// requester is remembered for ``responseCacheLifetime`` after its last new
    /// request; while the table is full, requests from other requesters are rejected as
    /// busy. Each costs about a hundred bytes beyond its entries.
    public static let responseCacheRequesterLimit = 1024

    /// How long an incoming request is remembered after its first copy arrives.
    ///
    /// Must be at least ``maximumResendWindow`` plus the longest time a datagram can
    /// linger in the network; `2 × maximumResendWindow` (60 s) allows 30 s of lingering.
    /// Shorter risks running a handler twice; longer holds memory for longer.
    public static let responseCacheLifetime: Duration = maximumResendWindow * 2
}
