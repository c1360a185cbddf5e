/// Names one anycast request of one ``NodeCore``.
public struct AnycastID: Hashable, Sendable, CustomStringConvertible {
    /// The number, counting from 1 per core.
    public let rawValue: UInt64

    /// Wraps a number.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public var description: String { "anycast \(rawValue)" }
}

/// How an anycast request ended.
public enum AnycastEvent: Sendable {
    /// Request `id` ended: answered by a provider, or failed.
    case finished(AnycastID, Result<AnycastAnswer, AnycastError>)
}

/// A provider's answer to an anycast request.
public struct AnycastAnswer: Equatable, Sendable {
    /// The provider that answered.
    public var provider: PeerID
    /// Its response.
    public var payload: [UInt8]
    /// Providers asked, the one that answered included.
    public var attempts: Int
    /// Providers the lookup found (after those membership holds failed were left out).
    public var candidates: Int

    /// An answer from its parts.
    public init(provider: PeerID, payload: [UInt8], attempts: Int, candidates: Int) {
        self.provider = provider
        self.payload = payload
        self.attempts = attempts
        self.candidates = candidates
    }
}

/// Why an anycast request failed.
public enum AnycastError: Error, Equatable, Sendable {
    /// This peer takes part in no overlay, so it cannot look providers up.
    case noOverlay
    /// The request cannot be sent as given (method name, payload size).
    case invalidRequest(RPCError)
    /// ``AnycastConstants/maximumInFlight`` anycast requests are in flight already.
    case tooManyInFlight
    /// No live provider of the service was found.
    case noProviders(service: String)
    /// Every provider asked failed; `last` is the last one's error.
    case allFailed(attempts: Int, last: RPCError)
    /// The caller's time ran out.
    case timedOut(attempts: Int)
}

extension AnycastError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .noOverlay: "this peer has no overlay to look providers up in"
        case .invalidRequest(let error): "\(error)"
        case .tooManyInFlight: "\(AnycastConstants.maximumInFlight) anycast requests are in flight already"
        case .noProviders(let service): "no live provider of \"\(service)\" was found"
        case .allFailed(let attempts, let last): "all \(attempts) providers asked failed; the last: \(last)"
        case .timedOut(let attempts): "timed out after asking \(attempts) providers"
        }
    }
}
