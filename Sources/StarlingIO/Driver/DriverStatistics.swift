/// Counts of the datagrams a ``CoreDriver`` moved, for benchmarks and diagnostics.
///
/// Read them on the driver's event loop (``CoreDriver/statistics``); subtract two readings
/// to count what happened in between.
public struct DriverStatistics: Sendable, Equatable {
    /// Datagrams handed to the channel, whether alone or in a GSO write.
    public var datagramsSent = 0
    /// Channel writes, each one datagram or one GSO run.
    public var writes = 0
    /// Writes that carried a GSO run of two or more datagrams.
    public var segmentedWrites = 0
    /// Datagrams that went out inside GSO runs.
    public var segmentedDatagrams = 0
    /// GSO writes the kernel refused with EIO (the device cannot offload checksums);
    /// the first one turns segmentation offload off for the driver.
    public var segmentationOffloadFailures = 0
    /// Datagrams fed to the core, after splitting GRO reads.
    public var datagramsReceived = 0
    /// Reads in which the kernel had joined several datagrams (GRO) that the driver split.
    public var coalescedReads = 0
    /// Received datagrams dropped by ``DatagramOptions/injectedLoss``.
    public var injectedDrops = 0
    /// Datagrams the kernel dropped because the socket's receive queue was full
    /// (`SO_MEMINFO`'s drop count; 0 where the system cannot tell).
    public var receiveQueueDrops = 0
    /// Errors the socket reported (for example ICMP port unreachable for an earlier
    /// send, as `ECONNREFUSED`); the socket stays open.
    public var socketErrors = 0
    /// The latest any timer fired after its deadline: how far behind the event loop got.
    public var maximumTimerLag = Duration.zero

    /// Creates zero counts.
    public init() {}

    /// The counts since `earlier` was read.
    public func subtracting(_ earlier: DriverStatistics) -> DriverStatistics {
        var difference = self
        difference.datagramsSent -= earlier.datagramsSent
        difference.writes -= earlier.writes
        difference.segmentedWrites -= earlier.segmentedWrites
        difference.segmentedDatagrams -= earlier.segmentedDatagrams
        difference.datagramsReceived -= earlier.datagramsReceived
        difference.coalescedReads -= earlier.coalescedReads
        difference.injectedDrops -= earlier.injectedDrops
        difference.receiveQueueDrops -= earlier.receiveQueueDrops
        difference.segmentationOffloadFailures -= earlier.segmentationOffloadFailures
        return difference
    }

    /// The sum of two sets of counts.
    public static func + (lhs: DriverStatistics, rhs: DriverStatistics) -> DriverStatistics {
        var sum = lhs
        sum.datagramsSent += rhs.datagramsSent
        sum.writes += rhs.writes
        sum.segmentedWrites += rhs.segmentedWrites
        sum.segmentedDatagrams += rhs.segmentedDatagrams
        sum.datagramsReceived += rhs.datagramsReceived
        sum.coalescedReads += rhs.coalescedReads
        sum.injectedDrops += rhs.injectedDrops
        sum.receiveQueueDrops += rhs.receiveQueueDrops
        sum.maximumTimerLag = max(lhs.maximumTimerLag, rhs.maximumTimerLag)
        sum.segmentationOffloadFailures += rhs.segmentationOffloadFailures
        return sum
    }
}
