import NIOCore
import StarlingCore
import StarlingIO
import Synchronization

/// The Starling side of `bench datagrams` and `bench bulk`: encrypted datagrams from
/// ``LoopbackPair/sender`` to ``LoopbackPair/receiver`` as fast as the receiver takes
/// them, counted where they are delivered.
///
/// The sender runs on its own event loop. Each step `perform`s one batch of
/// `PeerCore.sendDatagram` calls with one reused payload array, so the driver drains the
/// whole batch in one go: one `sendmmsg`, or, with GSO, runs of equal-size datagrams as
/// single writes. It then re-queues itself on its loop, so reads and timers still run.
///
/// Flow control is the raw baseline's credit window: a batch goes out only while at
/// most `window − batch` datagrams are in flight (sent but not yet delivered), the window
/// sized to half the receive buffer. The sender thus cannot just overflow the socket
/// buffer. If datagrams are lost anyway, the sender writes the window off after 20 ms
/// without progress (counted as a stall) and goes on.
///
/// The rate counts deliveries between the sender's start and its deadline; afterwards
/// the flood waits up to 1 s for datagrams still in flight, and what never arrives is
/// reported as lost. The whole run fails after `seconds + 10` s whatever happens.
enum DatagramFlood {
    /// Bytes a PeerCore datagram adds on the wire: the transport header and tag, the
    /// session's inner type byte and PeerCore's channel byte.
    static var overhead: Int { TransportHeader.size + TransportHeader.tagSize + 2 }

    /// What one flood measured.
    struct Outcome: Sendable {
        let payloadSize: Int
        let batch: Int
        let window: Int
        /// Datagrams and payload bytes delivered between the sender's start and deadline.
        let delivered: Int
        let bytes: Int
        /// The sender's measured time, in seconds.
        let seconds: Double
        /// Datagrams sent, and delivered once the stragglers had arrived.
        let sent: Int
        let deliveredTotal: Int
        let stalls: Int
        /// Sender steps that found the window full, of all its steps.
        let waitingSteps: Int
        let steps: Int
        /// The drivers' counters over this flood.
        let senderDriver: DriverStatistics
        let receiverDriver: DriverStatistics

        var datagramsPerSecond: Double { seconds > 0 ? Double(delivered) / seconds : 0 }
        var megabytesPerSecond: Double { seconds > 0 ? Double(bytes) / seconds / 1e6 : 0 }
        var lost: Int { max(0, sent - deliveredTotal) }
    }

    /// What the sending loop reports when it stops.
    struct FloodResult: Sendable {
        let sent: Int
        let delivered: Int
        let seconds: Double
        let stalls: Int
        let waitingSteps: Int
        let steps: Int
    }

    /// Floods for `seconds` and reports what the receiver got.
    ///
    /// - Parameters:
    ///   - pair: the two cores; their `onEvent`s are replaced.
    ///   - payloadSize: payload bytes per datagram (what a delivery counts).
    ///   - wireSize: bytes per datagram on the wire, for the window.
    ///   - batch: datagrams per `perform` (and at most per GSO run).
    ///   - seconds: how long the sender sends.
    ///   - delivered: whether a receiver event is a delivered datagram.
    ///   - sendBatch: queues `batch` datagrams on the sender's core; returns why not, if it failed.
    /// - Throws: ``BenchError`` when sending fails or the hard deadline passes.
    static func run<Core>(
        _ pair: LoopbackPair<Core>, payloadSize: Int, wireSize: Int, batch: Int, seconds: Double,
        delivered: @escaping @Sendable (Core.Event) -> Bool,
        sendBatch: @escaping @Sendable (inout Core, Instant) -> String?
    ) async throws -> Outcome {
        let counter = DeliveryCounter()
        let receiver = pair.receiver
        let sender = pair.sender
        let receiverBefore = try await receiver.loop.submit {
            let driver = receiver.driver.value
            driver.onEvent = { event in
                if delivered(event) { counter.record() }
            }
            return driver.statistics
        }.get()
        let receiveBuffer = Int(try await receiver.channel.getOption(.socketOption(.so_rcvbuf)).get())
        // The kernel's cost per queued datagram, as the raw baseline estimates it.
        let costPerDatagram = max(1_024, 2 * wireSize + 512)
        let window = min(max(receiveBuffer / costPerDatagram / 2, batch), 4_096)

        let duration = TimeAmount.nanoseconds(Int64(seconds * 1e9))
        let promise = sender.loop.makePromise(of: FloodResult.self)
        let senderBefore = try await sender.loop.submit {
            let driver = sender.driver.value
            let pump = FloodPump(
                driver: driver, loop: sender.loop, sendBatch: sendBatch, counter: counter, window: window,
                batch: batch, duration: duration, promise: promise)
            let statistics = driver.statistics
            pump.start()
            return statistics
        }.get()
        let hardDeadline = sender.loop.scheduleTask(in: duration + .seconds(10)) {
            promise.fail(BenchError.timedOut("the datagram flood"))
        }
        let result = try await promise.futureResult.get()
        hardDeadline.cancel()

        // Stragglers: wait until nothing arrives for 50 ms, or 1 s at most.
        var deliveredTotal = counter.datagrams.load(ordering: .acquiring)
        for _ in 0..<20 where deliveredTotal < result.sent {
            try await Task.sleep(for: .milliseconds(50))
            let now = counter.datagrams.load(ordering: .acquiring)
            if now == deliveredTotal { break }
            deliveredTotal = now
        }
        let senderAfter = try await sender.loop.submit { sender.driver.value.statistics }.get()
        let receiverAfter = try await receiver.loop.submit { receiver.driver.value.statistics }.get()
        return Outcome(
            payloadSize: payloadSize, batch: batch, window: window, delivered: result.delivered,
            bytes: result.delivered * payloadSize, seconds: result.seconds, sent: result.sent,
            deliveredTotal: deliveredTotal, stalls: result.stalls, waitingSteps: result.waitingSteps,
            steps: result.steps, senderDriver: senderAfter.subtracting(senderBefore),
            receiverDriver: receiverAfter.subtracting(receiverBefore))
    }

    /// ``run(_:payloadSize:wireSize:batch:seconds:delivered:sendBatch:)`` for two
    /// `PeerCore`s: `sendDatagram` of one reused payload array to the receiver.
    static func run(
        _ pair: LoopbackPair<PeerCore>, payloadSize: Int, batch: Int, seconds: Double
    ) async throws -> Outcome {
        let destination = try await pair.receiverID()
        let payload = [UInt8](repeating: 0xA5, count: payloadSize)
        return try await run(
            pair, payloadSize: payloadSize, wireSize: payloadSize + overhead, batch: batch, seconds: seconds,
            delivered: { event in
                if case .datagram = event { true } else { false }
            },
            sendBatch: { core, now in
                for _ in 0..<batch {
                    do throws(SessionError) {
                        try core.sendDatagram(payload, to: destination, now: now)
                    } catch {
                        return "sendDatagram failed: \(error)"
                    }
                }
                return nil
            })
    }

    /// ``run(_:payloadSize:wireSize:batch:seconds:delivered:sendBatch:)`` for two
    /// ``NullCore``s sending datagrams of PeerCore's wire size: the I/O path alone.
    static func run(
        _ pair: LoopbackPair<NullCore>, payloadSize: Int, batch: Int, seconds: Double
    ) async throws -> Outcome {
        let datagram = [UInt8](repeating: 0xA5, count: payloadSize + overhead)
        let destination = pair.receiver.address
        return try await run(
            pair, payloadSize: payloadSize, wireSize: datagram.count, batch: batch, seconds: seconds,
            delivered: { _ in true },
            sendBatch: { core, _ in
                core.send(datagram, count: batch, to: destination)
                return nil
            })
    }
}

/// The receiver's delivery count: written only on the receiver's loop, read anywhere.
final class DeliveryCounter: Sendable {
    let datagrams = Atomic<Int>(0)

    /// Counts one delivered datagram (single writer, so no read-modify-write instruction
    /// is needed).
    func record() {
        datagrams.store(datagrams.load(ordering: .relaxed) &+ 1, ordering: .releasing)
    }
}

/// The sending loop, on the sender's event loop. See ``DatagramFlood``.
private final class FloodPump<Core: ProtocolCore> {
    /// How long the window may stay full without a delivery before it is written off.
    static var stallLimit: TimeAmount { .milliseconds(20) }

    let driver: CoreDriver<Core>
    let loop: any EventLoop
    let sendBatch: (inout Core, Instant) -> String?
    let counter: DeliveryCounter
    let window: Int
    let batch: Int
    let duration: TimeAmount
    let promise: EventLoopPromise<DatagramFlood.FloodResult>

    var started = NIODeadline.uptimeNanoseconds(0)
    var deadline = NIODeadline.uptimeNanoseconds(0)
    var deliveredAtStart = 0
    var sent = 0
    var writtenOff = 0
    var stalls = 0
    var steps = 0
    var waitingSteps = 0
    var waitingSince: NIODeadline?
    var deliveredWhenWaitStarted = 0

    init(
        driver: CoreDriver<Core>, loop: any EventLoop, sendBatch: @escaping (inout Core, Instant) -> String?,
        counter: DeliveryCounter, window: Int, batch: Int, duration: TimeAmount,
        promise: EventLoopPromise<DatagramFlood.FloodResult>
    ) {
        self.driver = driver
        self.loop = loop
        self.sendBatch = sendBatch
        self.counter = counter
        self.window = window
        self.batch = batch
        self.duration = duration
        self.promise = promise
    }

    func start() {
        started = .now()
        deadline = started + duration
        deliveredAtStart = counter.datagrams.load(ordering: .acquiring)
        step()
    }

    /// Sends one batch if the window allows, then queues the next step; ends at the deadline.
    func step() {
        let now = NIODeadline.now()
        let delivered = counter.datagrams.load(ordering: .acquiring)
        guard now < deadline else {
            promise.succeed(
                DatagramFlood.FloodResult(
                    sent: sent, delivered: delivered - deliveredAtStart,
                    seconds: Double((now - started).nanoseconds) / 1e9, stalls: stalls, waitingSteps: waitingSteps,
                    steps: steps))
            return
        }
        steps += 1
        let inFlight = sent - (delivered - deliveredAtStart) - writtenOff
        if window - inFlight < batch {
            waitingSteps += 1
            if let since = waitingSince, delivered == deliveredWhenWaitStarted {
                if now - since > Self.stallLimit {
                    writtenOff += inFlight
                    stalls += 1
                    waitingSince = nil
                }
            } else {
                waitingSince = now
                deliveredWhenWaitStarted = delivered
            }
        } else {
            waitingSince = nil
            if let failure = driver.perform(sendBatch) {
                promise.fail(BenchError.failed(failure))
                return
            }
            sent += batch
        }
        loop.assumeIsolated().execute { self.step() }
    }
}
