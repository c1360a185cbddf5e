import CSodium
import StarlingCore

/// What one datagram costs the two PeerCores alone, without any I/O: the ceiling the
/// network cases work under, printed in their detail so that a missed target can be
/// split between the cores and the I/O path.
///
/// Two cores with an established session, in one thread: the sender's
/// `sendDatagram` for 64 datagrams and the drain of `pollTransmit` into reused buffers
/// (what the driver does) are timed as "send"; the receiver's `handleDatagram` for each
/// and the drain of its events as "receive". For reference, libsodium's ChaCha20-Poly1305
/// on the same plaintext and associated-data sizes is timed alone.
///
/// ```swift
/// let cost = CoreCost.measure(payloadSize: 64, seconds: 0.2)
/// print(cost.sendNanoseconds, cost.sealNanoseconds)
/// ```
struct CoreCost {
    /// Nanoseconds per datagram on the sending core, and on the receiving core.
    let sendNanoseconds: Double
    let receiveNanoseconds: Double
    /// Nanoseconds per AEAD seal and open of the same sizes, libsodium alone.
    let sealNanoseconds: Double
    let openNanoseconds: Double

    /// One line for a bench's detail.
    var text: String {
        func format(_ value: Double) -> String { String(Int(value.rounded())) }
        return "cores alone: send \(format(sendNanoseconds)) ns, receive \(format(receiveNanoseconds)) ns "
            + "per datagram (ChaCha20-Poly1305 alone: seal \(format(sealNanoseconds)) ns, "
            + "open \(format(openNanoseconds)) ns)"
    }

    static let batch = 64

    /// Two cores with an established session, made in memory.
    struct Pair {
        var sender: PeerCore
        var receiver: PeerCore
        let senderID: PeerID
        let receiverID: PeerID
        let senderAddress = try! PeerAddress("127.0.0.1:40001")
        let receiverAddress = try! PeerAddress("127.0.0.1:40002")
        var now = Instant(nanoseconds: 1_000_000_000)
        /// Reused datagram buffers.
        var buffers = [[UInt8]](repeating: [], count: CoreCost.batch)

        init() {
            var random = SecureRandom()
            let senderIdentity = IdentityKeyPair.generate(using: &random)
            let receiverIdentity = IdentityKeyPair.generate(using: &random)
            senderID = senderIdentity.peerID
            receiverID = receiverIdentity.peerID
            sender = PeerCore(
                endpoint: try! SessionEndpoint(identity: senderIdentity, configuration: .local, random: SecureRandom()),
                random: SecureRandom())
            receiver = PeerCore(
                endpoint: try! SessionEndpoint(
                    identity: receiverIdentity, configuration: .local, random: SecureRandom()),
                random: SecureRandom())
            for index in buffers.indices { buffers[index].reserveCapacity(2048) }
            sender.connect(to: receiverAddress, expecting: receiverID, now: now)
            carry()
            while sender.pollEvent() != nil {}
            while receiver.pollEvent() != nil {}
            precondition(sender.isEstablished(with: receiverID), "the in-memory handshake did not complete")
        }

        /// Carries datagrams both ways until neither core has any (16 exchanges at most).
        mutating func carry() {
            for _ in 0..<16 {
                var moved = false
                while sender.pollTransmit(now: now, into: &buffers[0]) != nil {
                    buffers[0].withUnsafeBytes { receiver.handleDatagram($0, from: senderAddress, now: now) }
                    moved = true
                }
                while receiver.pollTransmit(now: now, into: &buffers[0]) != nil {
                    buffers[0].withUnsafeBytes { sender.handleDatagram($0, from: receiverAddress, now: now) }
                    moved = true
                }
                if !moved { break }
            }
        }
    }

    /// Nanoseconds per request/response round trip between two cores in memory: the
    /// request, the server's `respond` from its request event, and the response event,
    /// each datagram carried by hand. At most 100,000 round trips.
    static func roundTrip(payloadSize: Int, seconds: Double) -> Double {
        var pair = Pair()
        try! pair.receiver.serve(RPCBench.method)
        let payload = [UInt8](repeating: 0x5A, count: payloadSize)
        let clock = ContinuousClock()
        let budget = Duration.nanoseconds(Int64(seconds * 1e9))
        var count = 0
        let start = clock.now
        while count < 100_000, clock.now - start < budget {
            pair.now = pair.now + .microseconds(10)
            let now = pair.now
            _ = try! pair.sender.request(RPCBench.method, payload, to: pair.receiverID, now: now)
            while pair.sender.pollTransmit(now: now, into: &pair.buffers[0]) != nil {
                pair.buffers[0].withUnsafeBytes { pair.receiver.handleDatagram($0, from: pair.senderAddress, now: now) }
            }
            while let event = pair.receiver.pollEvent() {
                if case .request(let request) = event {
                    try! pair.receiver.respond(to: request.id, payload: request.payload, now: now)
                }
            }
            while pair.receiver.pollTransmit(now: now, into: &pair.buffers[0]) != nil {
                pair.buffers[0].withUnsafeBytes { pair.sender.handleDatagram($0, from: pair.receiverAddress, now: now) }
            }
            var answered = false
            while let event = pair.sender.pollEvent() {
                if case .response(_, .success) = event { answered = true }
            }
            precondition(answered, "an in-memory request got no answer")
            count += 1
        }
        let (whole, fraction) = (clock.now - start).components
        return count > 0 ? (Double(whole) * 1e9 + Double(fraction) / 1e9) / Double(count) : 0
    }

    /// Measures for about `seconds` (split between the cores and the AEAD reference).
    static func measure(payloadSize: Int, seconds: Double) -> CoreCost {
        var pair = Pair()
        let payload = [UInt8](repeating: 0xA5, count: payloadSize)
        let clock = ContinuousClock()
        let budget = Duration.nanoseconds(Int64(seconds * 0.7e9))
        var sendTime = Duration.zero
        var receiveTime = Duration.zero
        var datagrams = 0
        let start = clock.now
        while clock.now - start < budget {
            pair.now = pair.now + .microseconds(10)
            let now = pair.now
            let beforeSend = clock.now
            for _ in 0..<batch { try! pair.sender.sendDatagram(payload, to: pair.receiverID, now: now) }
            var count = 0
            while count < batch, pair.sender.pollTransmit(now: now, into: &pair.buffers[count]) != nil { count += 1 }
            let beforeReceive = clock.now
            for index in 0..<count {
                pair.buffers[index].withUnsafeBytes {
                    pair.receiver.handleDatagram($0, from: pair.senderAddress, now: now)
                }
            }
            var delivered = 0
            while let event = pair.receiver.pollEvent() { if case .datagram = event { delivered += 1 } }
            let end = clock.now
            precondition(delivered == count, "the receiving core dropped \(count - delivered) datagrams")
            while pair.receiver.pollTransmit(now: now, into: &pair.buffers[0]) != nil {}
            while pair.sender.pollEvent() != nil {}
            sendTime += beforeReceive - beforeSend
            receiveTime += end - beforeReceive
            datagrams += count
        }
        let aead = aeadCost(plaintextSize: payloadSize + 2, seconds: seconds * 0.3)
        func perDatagram(_ time: Duration) -> Double {
            let (whole, fraction) = time.components
            return datagrams > 0 ? (Double(whole) * 1e9 + Double(fraction) / 1e9) / Double(datagrams) : 0
        }
        return CoreCost(
            sendNanoseconds: perDatagram(sendTime), receiveNanoseconds: perDatagram(receiveTime),
            sealNanoseconds: aead.seal, openNanoseconds: aead.open)
    }

    /// Nanoseconds per libsodium ChaCha20-Poly1305 seal and open of `plaintextSize`
    /// bytes with a transport header's 14 bytes of associated data.
    private static func aeadCost(plaintextSize: Int, seconds: Double) -> (seal: Double, open: Double) {
        let key = [UInt8](repeating: 0x42, count: 32)
        let nonce = [UInt8](repeating: 0, count: 12)
        let header = [UInt8](repeating: 0x01, count: 14)
        let plaintext = [UInt8](repeating: 0xA5, count: plaintextSize)
        var ciphertext = [UInt8](repeating: 0, count: plaintextSize)
        var tag = [UInt8](repeating: 0, count: 16)
        var opened = [UInt8](repeating: 0, count: plaintextSize)
        let seal = measureRate(seconds: seconds / 2, batch: 1) {
            Int(
                crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                    &ciphertext, &tag, nil, plaintext, UInt64(plaintextSize), header, 14, nil, nonce, key))
        }
        let open = measureRate(seconds: seconds / 2, batch: 1) {
            Int(
                crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                    &opened, nil, ciphertext, UInt64(plaintextSize), tag, header, 14, nonce, key))
        }
        return (1e9 / seal, 1e9 / open)
    }
}
