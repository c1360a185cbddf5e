internal import DequeModule
import Synchronization

/// Verifies membership claims, remembering the ones found valid, so that a claim is
/// checked once however many times gossip delivers it.
///
/// ### Purpose
/// A claim travels to every member several times (piggybacked, gossiped, in state
/// exchanges), and an Ed25519 verification costs tens of microseconds. A core verifies
/// only claims newer than what it holds; this cache removes the rest of the repeats,
/// and one verifier shared by every peer of a process (``Swarm``, the simulator) checks
/// each claim once for all of them. Sharing changes no outcome: the answer for a claim
/// is the same whoever asked first.
///
/// Only valid claims are remembered, keyed by every field the signature covers and by
/// the signature itself, so a cached answer can never vouch for different bytes. The
/// cache holds at most `capacity` claims and forgets the oldest first.
///
/// - Note: thread-safe; peers on different event loops may share one.
public final class ClaimVerifier: Sendable {
    /// One verified claim, exactly.
    private struct Entry: Hashable {
        var update: MemberUpdate
        var swarmID: [UInt8]
    }

    private struct Cache {
        var entries: Set<Entry> = []
        var order = Deque<Entry>()
        var verifications = 0
    }

    /// Most claims remembered.
    public let capacity: Int
    private let cache = Mutex(Cache())

    /// Creates an empty verifier.
    /// - Parameter capacity: most claims remembered (at least 1).
    public init(capacity: Int = MembershipConstants.verifiedClaimsCached) {
        self.capacity = max(1, capacity)
    }

    /// Signature checks this verifier has actually computed (cache misses).
    public var verifications: Int { cache.withLock { $0.verifications } }

    /// What ``verify(_:swarmID:mayCompute:)`` found.
    public enum Verdict: Equatable, Sendable {
        /// The member signed the claim; `computed` when this call checked the signature.
        case valid(computed: Bool)
        /// The signature is not the member's.
        case invalid
        /// Not in the cache, and the caller did not allow a signature check.
        case unchecked
    }

    /// Whether `update` is a claim its member signed for `swarmID`.
    /// - Parameter mayCompute: whether a claim not in the cache may be checked now.
    public func verify(_ update: MemberUpdate, swarmID: [UInt8], mayCompute: Bool = true) -> Verdict {
        let entry = Entry(update: update, swarmID: swarmID)
        if cache.withLock({ $0.entries.contains(entry) }) { return .valid(computed: false) }
        guard mayCompute else { return .unchecked }
        let valid = MemberClaim.isValid(update, swarmID: swarmID)
        cache.withLock { cache in
            cache.verifications += 1
            guard valid, cache.entries.insert(entry).inserted else { return }
            cache.order.append(entry)
            if cache.order.count > capacity, let oldest = cache.order.popFirst() { cache.entries.remove(oldest) }
        }
        return valid ? .valid(computed: true) : .invalid
    }
}
