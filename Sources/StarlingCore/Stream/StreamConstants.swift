/// Sizes and limits of Starling's encrypted TCP stream (see `docs/PROTOCOL.md`,
/// "Streams").
///
/// Every chunk of the stream is one Noise transport message, so the chunk limits derive
/// from the Noise specification's 65,535-byte message limit
/// (<https://noiseprotocol.org/noise.html>, section 3) and its 16-byte ChaChaPoly tag.
public enum StreamConstants {
    // MARK: Specification (changing any of these breaks interoperability)

    /// The stream's protocol version: the datagram protocol's version, so that one
    /// number names both.
    public static let version: UInt8 = DatagramHeader.currentVersion

    /// The high four bits of the stream header: `0xB`, marking a Starling stream.
    ///
    /// The header is at least `0x80`, so no text protocol (HTTP, SSH, SMTP) and no
    /// TLS record (`0x16`) begins with it.
    public static let headerMarker: UInt8 = 0xB0

    /// The one byte each side sends first: ``headerMarker`` with ``version`` in the low
    /// four bits (`0xB1` for version 1).
    public static let header: UInt8 = headerMarker | version

    /// Bytes in a frame's big-endian length prefix.
    public static let lengthPrefixSize = 4

    /// The largest frame body: one Noise message (section 3).
    public static let maximumFrameBody = NoiseConstants.maximumMessageLength

    /// The largest frame on the wire, prefix included.
    public static let maximumFrameSize = lengthPrefixSize + maximumFrameBody

    /// The largest plaintext record one chunk carries: a Noise message less its tag.
    public static let maximumRecordSize = maximumFrameBody - NoiseConstants.tagLength

    /// Bytes of a record before its data: the record type.
    public static let recordTypeSize = 1

    /// Bytes a message-start record adds after its type: the message length (u32).
    public static let messageLengthSize = 4

    /// Most message bytes a message-start record carries.
    public static let maximumStartData = maximumRecordSize - recordTypeSize - messageLengthSize

    /// Most message bytes a continuation record carries.
    public static let maximumContinuationData = maximumRecordSize - recordTypeSize

    /// Wire bytes a chunk adds to its record: the length prefix and the tag.
    public static let chunkOverhead = lengthPrefixSize + NoiseConstants.tagLength

    /// The body of an abort frame: one reason byte. No Noise message is this short, so
    /// a one-byte frame is never mistaken for one.
    public static let abortFrameBody = 1

    /// The largest size a message length can state.
    public static let largestDeclarableMessage = Int(clamping: UInt32.max)

    // MARK: Implementation (local policy)

    /// The default largest application message: 16 MiB. A receiver holds at most about
    /// this much (twice the bytes received so far) for one message being received.
    public static let defaultMaximumMessageSize = 16 * 1024 * 1024

    /// How far the time in a private swarm's stream opening (``StreamAdmission``) may be
    /// from the responder's, either way. It bounds how long a captured opening can be
    /// replayed to draw an answer; members' clocks must agree this closely (as for sealed
    /// overlay and discovery datagrams). Raising it tolerates worse clocks and lengthens
    /// the replay window.
    public static let openingWindow: Duration = .seconds(60)

    /// The most stream requests one peer core waits on at once (``StreamCalls``); a
    /// request beyond it fails with ``RPCError/tooManyRequests(maximum:)``. Each holds
    /// little (its method name and a deadline), so the bound is there to stop a runaway
    /// caller, not to save memory; lowering it refuses bursts of concurrent requests.
    public static let maximumWaitingRequests = 4096

    /// The most streams one peer core keeps track of at once (``StreamCalls``); a driver
    /// closes a stream the core refuses. A stream costs a TCP connection and its buffers
    /// anyway, so this bounds what remote peers can make the core hold.
    public static let maximumOpenStreams = 1024

    /// The most streams one peer core keeps open with one remote peer (``StreamLimits``):
    /// a peer uses one stream per remote peer, two when both dial at once, so 4 leaves
    /// room for redials while one identity cannot hold more.
    public static let maximumStreamsPerPeer = 4

    /// How long a stream may carry nothing before the core asks its driver to close it
    /// (``StreamLimits/idleTimeout``); a later message dials a new one.
    public static let idleTimeout: Duration = .seconds(120)

    /// Bytes reserved for a message being received when its start record arrives, at
    /// most: the reservation then grows with the bytes that arrive (doubling), never
    /// with the length the sender declared.
    public static let initialReceiveReservation = 64 * 1024

    /// Bytes the framer takes from one input before cutting its frames, so that the
    /// frame buffer never holds more than about two frames whatever the input's size.
    static let inputSlice = maximumFrameSize

    /// The smallest buffer ``StreamSession/pollTransmit(into:)`` always makes progress
    /// with: a message-start chunk carrying one byte (prefix, type, length, data, tag).
    public static let minimumTransmitBuffer = chunkOverhead + recordTypeSize + messageLengthSize + 1
}
