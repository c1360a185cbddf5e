/// Names one lookup started by a ``RoutingCore`` command.
public struct LookupID: Hashable, Sendable, CustomStringConvertible {
    /// The number, counting from 1 per core.
    public let rawValue: UInt64

    /// Wraps a number.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// `lookup#N`.
    public var description: String { "lookup#\(rawValue)" }
}

/// How a lookup ended.
public struct LookupResult: Hashable, Sendable {
    /// What the lookup found, by command.
    public enum Outcome: Hashable, Sendable {
        /// ``RoutingCore/findNode(_:now:)`` and bootstrap or refresh lookups: the closest
        /// peers that answered, closest first, at most `k`.
        case nodes([RoutingContact])
        /// ``RoutingCore/findPeer(_:now:)``: the peer's verified signed record, or `nil`.
        case peer(SignedPeerRecord?)
        /// ``RoutingCore/findProviders(service:now:)``: verified provider records, one
        /// per provider (highest sequence), unchanged as their owners signed them.
        case providers([SignedPeerRecord])
        /// ``RoutingCore/provide(service:now:)``: how many peers the record was sent to.
        case provided(storedAt: Int)
        /// ``RoutingCore/findName(_:now:)``: the first chain found that verified and is
        /// stored at the key, or `nil` with why any chains found were refused.
        case name(NameChain?, refused: NameError?)
        /// ``RoutingCore/storeName(_:now:)``: how many peers the chain was sent to.
        case nameStored(storedAt: Int)
    }

    /// What was found.
    public var outcome: Outcome
    /// Hops: the request round (1 = asked a peer from the local table) in which the
    /// answering peer was reached; for node lookups, the deepest round among the
    /// closest peers returned. 0 when nobody answered.
    public var hops: Int
    /// Requests the lookup sent.
    public var requests: Int
    /// Requests that timed out.
    public var timeouts: Int

    /// Creates a result.
    public init(outcome: Outcome, hops: Int, requests: Int, timeouts: Int) {
        self.outcome = outcome
        self.hops = hops
        self.requests = requests
        self.timeouts = timeouts
    }
}

/// What a ``RoutingCore`` reports to its user.
public enum RoutingEvent: Hashable, Sendable {
    /// A lookup started by a command finished (refresh and republish lookups report nothing).
    case lookupFinished(LookupID, LookupResult)
}

/// Why the routing core dropped an incoming message. Each is counted in
/// ``RoutingCore/drops``.
public enum RoutingDropReason: Hashable, Sendable, CaseIterable {
    /// The bytes did not decode as a routing message.
    case malformed
    /// A reply matched no pending request (late, duplicated or forged).
    case unexpectedResponse
    /// The message claimed to come from the local peer.
    case fromSelf
    /// A record failed verification (signature, expiry, signer or service).
    case invalidRecord
    /// The core had no room for another pending request, proof or lookup.
    case overloaded
    /// A `PROOF` did not verify (wrong signature, sender or source address).
    case invalidProof
    /// A `PROVE` this core would not answer: it has no identity to sign with, or the
    /// challenge names an address its record does not list.
    case refusedChallenge
    /// A contact or provider record was refused because its subnet already holds
    /// the most ``AddressDiversity`` allows.
    case subnetFull
    /// An `ADD_PROVIDER` whose record is not the sender's own.
    case notOwnRecord
    /// A `STORE_NAME` whose chain is older than the one held (a rollback).
    case staleName
}
