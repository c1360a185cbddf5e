/// The numbers of the multicast lab's probe packets (`starling mcast`): their layout,
/// and the bounds a receiver keeps its bookkeeping within.
public enum ProbeConstants {
    // MARK: - Specification

    /// The four bytes that open every lab packet: ASCII `SMLP` ("Starling multicast lab packet").
    public static let magic: UInt32 = 0x534D_4C50
    /// The packet layout this build writes and reads.
    public static let version: UInt8 = 1
    /// Size of the header every kind carries: magic 4, version 1, kind 1, reserved 2,
    /// sender id 8, sequence 8, send time 8.
    public static let headerSize = 32
    /// Size of a probe's body before its padding: the run length, 8 bytes.
    public static let probeBodySize = 8
    /// The smallest probe packet: `headerSize + probeBodySize` = 40 bytes.
    public static let minimumProbeSize = headerSize + probeBodySize
    /// The largest UDP payload IPv4 can carry: 65,535 − 20 (IP header) − 8 (UDP header)
    /// (RFC 791, RFC 768). IPv6 could carry 20 more; one limit keeps both families alike.
    public static let maximumPacketSize = 65_507

    // MARK: - Implementation

    /// How far below the highest sequence number a receiver still tells a duplicate from a
    /// late packet: 65,536 sequence numbers, an 8 KiB bitmap per sender. An older packet
    /// is counted as ``ProbeArrival/tooOld``.
    public static let sequenceWindow: UInt64 = 1 << 16
    /// The RFC 3550 §6.4.1 jitter gain: each new transit-time difference moves the
    /// estimate by 1/16 of its distance from it, a smoothing over about 16 packets.
    public static let jitterGain = 1.0 / 16.0
}
