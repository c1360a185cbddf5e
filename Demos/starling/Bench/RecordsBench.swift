import CSodium
import StarlingCore

/// `starling bench records`: signed peer records made and checked per second.
///
/// Starling: encode a four-address, three-service record, sign it, decode the
/// datagram and verify it. Baseline: libsodium's detached sign and verify over a byte
/// string of the same length. The ratio shows what encoding, decoding and the checks
/// around the signature cost on top of the two Ed25519 operations.
enum RecordsBench {
    static func run(seconds: Double) -> BenchResult {
        let keyPair = try! IdentityKeyPair(seed: [UInt8](repeating: 7, count: 32))
        let record = PeerRecord(
            peerID: keyPair.peerID, sequence: 1, expiresAt: UnixTime(seconds: 2_000_000_000),
            addresses: [
                .ipv4(127, 0, 0, 1, port: 4000), .ipv4(127, 0, 0, 2, port: 4000),
                try! PeerAddress("[::1]:4000"), try! PeerAddress("[fe80::1]:4000"),
            ],
            services: ["echo", "chat", "files"]
        )
        let now = UnixTime(seconds: 1_999_999_000)
        let starling = measureRate(seconds: seconds, batch: 1) {
            let datagram = try! record.sign(with: keyPair).datagram
            let verified = try! SignedPeerRecord.decodeDatagram(datagram).verify(now: now)
            return Int(truncatingIfNeeded: verified.sequence)
        }

        let messageLength = try! record.sign(with: keyPair).body.count + RecordConstants.signatureDomain.count
        let message = [UInt8](repeating: 0x42, count: messageLength)
        var secretKey = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        var publicKey = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        crypto_sign_seed_keypair(&publicKey, &secretKey, [UInt8](repeating: 7, count: 32))
        var signature = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
        let baseline = measureRate(seconds: seconds, batch: 1) {
            crypto_sign_detached(&signature, nil, message, UInt64(message.count), secretKey)
            return Int(crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey))
        }
        return BenchResult(
            name: "records", starling: starling, baseline: baseline, unit: "records/s",
            detail: "sign+encode+decode+verify of a \(messageLength)-byte record vs raw Ed25519 sign+verify")
    }
}
