extension RecordError: CustomStringConvertible {
    /// A sentence for people.
    public var description: String {
        switch self {
        case .malformed(let error): "malformed record: \(error)"
        case .badSignature: "the signature does not verify under the record's peer ID"
        case .expired(let expiresAt, let now): "expired at \(expiresAt) (now \(now), Unix seconds)"
        case .expiryTooFar(let expiresAt, let limit):
            "expiry \(expiresAt) is beyond the accepted limit \(limit) (Unix seconds)"
        case .wrongSigner(let expected, let actual): "belongs to peer \(actual), expected \(expected)"
        }
    }
}
