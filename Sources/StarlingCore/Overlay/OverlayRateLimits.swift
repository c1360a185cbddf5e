/// Token buckets on received overlay datagrams: one per source address and one for
/// all sources, checked before any decoding or AEAD work.
///
/// ### Purpose
/// Overlay datagrams arrive outside sessions, before anything is authenticated, and
/// each can cost an AEAD open, a signature check or an answer. The per-source bucket
/// keeps one source from eating a core; the total bucket bounds the work of a flood
/// from many (spoofed) sources. The per-source one is checked first, so a source over
/// its own limit spends nothing of the total.
///
/// A source is an address with its port, not a host: peers behind one NAT, or several
/// peers on one host, are separate sources. A flood from many addresses of one host is
/// the total bucket's to stop.
struct OverlayRateLimits: Sendable {
    private var perSource: SourceRateLimiter<PeerAddress>
    private var total: SourceRateLimiter<Bool>

    /// Creates the buckets of `configuration` (validated: rates and bursts positive).
    init(_ configuration: OverlayConfiguration) {
        perSource = SourceRateLimiter(
            perSecond: configuration.sourceDatagramsPerSecond, burst: configuration.sourceDatagramBurst,
            maximumSources: OverlayConstants.maximumTrackedAddresses)
        total = SourceRateLimiter(
            perSecond: configuration.totalDatagramsPerSecond, burst: configuration.totalDatagramBurst,
            maximumSources: 1)
    }

    /// Spends a token of `source` and one of the total.
    /// - Returns: nil when the datagram may be processed, else why it is dropped.
    mutating func admit(_ source: PeerAddress, now: Instant) -> OverlayDrop? {
        guard perSource.allow(source, now: now) else { return .sourceRateLimited }
        guard total.allow(true, now: now) else { return .totalRateLimited }
        return nil
    }
}
