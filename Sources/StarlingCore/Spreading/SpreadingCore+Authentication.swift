internal import CSodium

/// The outcome of checking a signed message's signature, at most once per message.
enum SpreadingVerdict: Equatable {
    /// The signature verified just now; `digest` names the message in the verdict cache.
    case genuine(digest: SpreadingID)
    /// A message with this digest was accepted before (only query hits are remembered so).
    case known
    /// The signature did not verify, now or when this message came before.
    case forged
}

extension SpreadingCore {
    /// Checks `signature` by `signer` over `signed`, unless the verdict cache already holds
    /// the answer: a forgery repeated costs a hash, not a second verification.
    ///
    /// Call only after the seen-cache check, so that copies of a message accepted before
    /// cost nothing at all. A forgery is remembered and counted here.
    mutating func authenticate(
        _ signed: [UInt8], signature: [UInt8], by signer: PeerID, now: Instant
    ) -> SpreadingVerdict {
        let digest = Self.verdictDigest(signed, signature: signature)
        switch verdicts.value(digest, now: now) {
        case false?:
            statistics.forgedOrigin += 1
            return .forged
        case true?:
            return .known
        case nil:
            break
        }
        statistics.signatureVerifications += 1
        guard signer.verify(signature: signature, of: signed) else {
            verdicts.insert(digest, false, now: now)
            statistics.forgedOrigin += 1
            return .forged
        }
        return .genuine(digest: digest)
    }

    /// BLAKE2b-128 of the signed bytes and the signature: what names a checked message.
    /// It leaves out the hop count and the TTL, so every copy of one flood has one digest,
    /// and it covers the signature, so a forgery cannot make a genuine message look known.
    static func verdictDigest(_ signed: [UInt8], signature: [UInt8]) -> SpreadingID {
        Sodium.ensureReady()
        let input = signed + signature
        var out = [UInt8](repeating: 0, count: SpreadingConstants.verdictDigestSize)
        input.withUnsafeBufferPointer { message in
            _ = crypto_generichash(
                &out, SpreadingConstants.verdictDigestSize, message.baseAddress, UInt64(message.count), nil, 0)
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 {
            high = high << 8 | UInt64(out[index])
            low = low << 8 | UInt64(out[index + 8])
        }
        return SpreadingID(high: high, low: low)
    }
}
