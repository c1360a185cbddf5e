import Foundation
import NIOCore
import StarlingCore
import StarlingIO

/// `starling bench rpc`: request/response round-trip latency on 127.0.0.1, one request
/// outstanding at a time, against a raw blocking UDP ping-pong.
///
/// Starling: ``starlingRoundTrips(payloadSize:seconds:)``. Baseline:
/// ``RawUDPBaseline/pingPong(payloadSize:seconds:maximumSamples:)`` with the same payload
/// size. Both alternate in two rounds of `seconds / 2`; each figure is the mean of its
/// rounds' p50 (p99 likewise, in the detail). The ratio is Starling / baseline, so lower
/// is better. Target: ratio ≤ 1.15.
enum RPCBench {
    static let rounds = 2
    static let payloadSize = 64
    static let method = "echo"
    /// Unrecorded round trips at the start of each pair of peers.
    static let warmUps = 200

    static func run(seconds: Double) async throws -> BenchResult {
        let perRound = seconds / Double(rounds)
        var baselines: [LatencySummary] = []
        var starlings: [LatencySummary] = []
        for _ in 0..<rounds {
            baselines.append(try RawUDPBaseline.pingPong(payloadSize: payloadSize, seconds: perRound))
            starlings.append(try await starlingRoundTrips(payloadSize: payloadSize, seconds: perRound))
        }
        let ioPath = try await nullRoundTrips(
            size: payloadSize + DatagramFlood.overhead, seconds: min(1, max(0.2, seconds / 4)))
        let coresAlone = CoreCost.roundTrip(payloadSize: payloadSize, seconds: 0.2)
        let publicAPI = try await PeerAPIRoundTrips.measure(payloadSize: payloadSize, seconds: perRound)
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }
        let starling = mean(starlings.map(\.p50))
        let baseline = mean(baselines.map(\.p50))
        let ratio = baseline > 0 ? starling / baseline : 0
        let detail =
            "p50 round trip (lower is better), \(payloadSize)-byte payload, one request at a time; "
            + String(
                format: "p99 starling %.1f µs, baseline %.1f µs; ", mean(starlings.map(\.p99)),
                mean(baselines.map(\.p99)))
            + "\(starlings.reduce(0) { $0 + $1.samples }) and \(baselines.reduce(0) { $0 + $1.samples }) round trips; "
            + "rounds p50 starling \(roundsText(starlings.map(\.p50))) µs, baseline \(roundsText(baselines.map(\.p50))) µs; "
            + String(
                format:
                    "I/O path alone (null cores echoing) p50 %.1f µs; cores alone (in memory) %.1f µs per round trip",
                ioPath.p50, coresAlone / 1_000)
            + String(
                format:
                    "; through the async Peer API (task → loop → handler task → loop → task) p50 %.1f µs, p99 %.1f µs",
                publicAPI.p50, publicAPI.p99)
        return BenchResult(
            name: "rpc", starling: starling, baseline: baseline, unit: "µs p50", detail: detail,
            lowerIsBetter: true, targets: [.ratio(atMost: 1.15, ratio)])
    }

    /// The Starling side: round trips of `PeerCore.request` answered by a handler that
    /// calls `respond` with the request's payload, between two peers on their own event
    /// loops, for `seconds`, after 200 unrecorded warm-up round trips.
    ///
    /// Each sample runs from just before `request` to the delivery of its response
    /// event; the next request goes out from that event handler.
    /// - Throws: ``BenchError`` when a request fails or the run does not finish within
    ///   its time plus 10 s.
    static func starlingRoundTrips(payloadSize: Int, seconds: Double) async throws -> LatencySummary {
        let capacity = min(max(Int(seconds * 200_000), 1_000), 5_000_000)
        let peers = try await LoopbackPair.peers(options: .standard, within: .seconds(5))
        do {
            let samples = try await measure(
                peers, payloadSize: payloadSize, for: .nanoseconds(Int64(seconds * 1e9)), maximumSamples: capacity)
            await peers.shutdown()
            return LatencySummary(nanoseconds: samples)
        } catch {
            await peers.shutdown()
            throw error
        }
    }

    /// Round trips on `peers` until `duration` has passed or `maximumSamples` are taken.
    private static func measure(
        _ peers: LoopbackPair<PeerCore>, payloadSize: Int, for duration: Duration, maximumSamples: Int
    ) async throws -> [UInt64] {
        let server = peers.receiver
        try await server.loop.submit {
            let driver = server.driver.value
            try driver.perform { core, _ in try core.serve(method) }
            driver.onEvent = { [unowned driver] event in
                guard case .request(let request) = event else { return }
                try? driver.perform { core, now in try core.respond(to: request.id, payload: request.payload, now: now)
                }
            }
        }.get()
        let serverID = try await peers.receiverID()
        let payload = [UInt8](repeating: 0x5A, count: payloadSize)
        return try await roundTrips(
            on: peers, for: duration, maximumSamples: maximumSamples,
            request: { core, now in _ = try core.request(method, payload, to: serverID, now: now) },
            reply: { event in
                guard case .response(_, let result) = event else { return .none }
                guard case .success(let reply) = result, reply.count == payload.count else {
                    return .failed("a request ended with \(result)")
                }
                return .ok
            })
    }

    /// The I/O path alone: round trips of one datagram of `size` bytes between two
    /// ``NullCore``s, the receiver echoing it, for `seconds` after 200 warm-ups.
    static func nullRoundTrips(size: Int, seconds: Double) async throws -> LatencySummary {
        let pair = try await LoopbackPair.bind(options: .standard) { index in NullCore(echoes: index == 1) }
        do {
            let datagram = [UInt8](repeating: 0x5A, count: size)
            let server = pair.receiver.address
            let samples = try await roundTrips(
                on: pair, for: .nanoseconds(Int64(seconds * 1e9)),
                maximumSamples: min(max(Int(seconds * 200_000), 1_000), 5_000_000),
                request: { core, _ in core.send(datagram, count: 1, to: server) },
                reply: { _ in .ok })
            await pair.shutdown()
            return LatencySummary(nanoseconds: samples)
        } catch {
            await pair.shutdown()
            throw error
        }
    }

    /// Runs ``RoundTrips`` on `pair`'s sender until `duration` has passed or
    /// `maximumSamples` are taken; fails after `duration + 10 s`.
    private static func roundTrips<Core>(
        on pair: LoopbackPair<Core>, for duration: Duration, maximumSamples: Int,
        request: @escaping @Sendable (inout Core, Instant) throws -> Void,
        reply: @escaping @Sendable (Core.Event) -> RoundTripReply
    ) async throws -> [UInt64] {
        let client = pair.sender
        let time = TimeAmount.nanoseconds(duration.nanosecondsClamped)
        let promise = client.loop.makePromise(of: [UInt64].self)
        try await client.loop.submit {
            let roundTrips = RoundTrips(
                driver: client.driver.value, request: request, reply: reply, capacity: maximumSamples, duration: time,
                promise: promise)
            roundTrips.start()
        }.get()
        let hardDeadline = client.loop.scheduleTask(in: time + .seconds(10)) {
            promise.fail(BenchError.timedOut("the rpc round trips"))
        }
        defer { hardDeadline.cancel() }
        return try await promise.futureResult.get()
    }

    static func roundsText(_ values: [Double]) -> String {
        "[" + values.map { String(format: "%.1f", $0) }.joined(separator: ", ") + "]"
    }
}

/// What a client event means to ``RoundTrips``.
enum RoundTripReply {
    /// Not a reply.
    case none
    /// The reply to the outstanding request.
    case ok
    /// The outstanding request failed, for this reason.
    case failed(String)
}

/// The client loop of ``RPCBench``, on the client's event loop: each reply event records
/// a sample and sends the next request.
private final class RoundTrips<Core: ProtocolCore> {
    static var warmUps: Int { RPCBench.warmUps }

    let driver: CoreDriver<Core>
    let request: (inout Core, Instant) throws -> Void
    let reply: (Core.Event) -> RoundTripReply
    let duration: TimeAmount
    let promise: EventLoopPromise<[UInt64]>
    var samples: [UInt64] = []
    var capacity: Int
    var warmUpsLeft = RPCBench.warmUps
    var deadline = NIODeadline.uptimeNanoseconds(0)
    var sentAt: UInt64 = 0

    init(
        driver: CoreDriver<Core>, request: @escaping (inout Core, Instant) throws -> Void,
        reply: @escaping (Core.Event) -> RoundTripReply, capacity: Int, duration: TimeAmount,
        promise: EventLoopPromise<[UInt64]>
    ) {
        self.driver = driver
        self.request = request
        self.reply = reply
        self.capacity = capacity
        self.duration = duration
        self.promise = promise
        samples.reserveCapacity(capacity)
    }

    func start() {
        driver.onEvent = { [self] event in
            switch reply(event) {
            case .none: break
            case .ok: completed()
            case .failed(let reason): finish(.failure(BenchError.failed(reason)))
            }
        }
        deadline = .now() + duration
        send()
    }

    private func send() {
        sentAt = SystemClock.monotonicNow().nanoseconds
        do {
            try driver.perform(request)
        } catch {
            finish(.failure(BenchError.failed("request failed: \(error)")))
        }
    }

    private func completed() {
        let elapsed = SystemClock.monotonicNow().nanoseconds &- sentAt
        if warmUpsLeft > 0 {
            warmUpsLeft -= 1
        } else {
            samples.append(elapsed)
        }
        guard samples.count < capacity, NIODeadline.now() < deadline else { return finish(.success(samples)) }
        send()
    }

    private func finish(_ result: Result<[UInt64], any Error>) {
        // Ends the loop: a late reply finds no handler.
        driver.onEvent = { _ in }
        promise.completeWith(result)
    }
}
