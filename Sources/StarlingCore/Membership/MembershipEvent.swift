/// What a ``MembershipCore`` reports about other members.
public enum MembershipEvent: Equatable, Sendable, CustomStringConvertible {
    /// A member became known (or returned after leaving).
    case joined(Member)
    /// A member missed a probe and is suspected.
    case suspected(Member)
    /// A suspected member did not refute in time: it has failed.
    case failed(Member)
    /// A member left gracefully.
    case left(Member)
    /// A suspected or failed member proved it is alive (higher incarnation).
    case aliveAgain(Member)
    /// A member announced a new address.
    case addressChanged(Member, previous: PeerAddress)
    /// This peer stopped holding a member that its partial view no longer includes
    /// (``MembershipView``); the member itself may well be alive.
    case forgotten(Member)

    /// The member the event is about.
    public var member: Member {
        switch self {
        case .joined(let member), .suspected(let member), .failed(let member), .left(let member),
            .aliveAgain(let member), .addressChanged(let member, _), .forgotten(let member):
            member
        }
    }

    /// A short form for logs and traces.
    public var description: String {
        switch self {
        case .joined(let member): "joined \(member.id.shortDescription)"
        case .suspected(let member): "suspected \(member.id.shortDescription)"
        case .failed(let member): "failed \(member.id.shortDescription)"
        case .left(let member): "left \(member.id.shortDescription)"
        case .aliveAgain(let member): "aliveAgain \(member.id.shortDescription)"
        case .addressChanged(let member, _): "addressChanged \(member.id.shortDescription) \(member.address)"
        case .forgotten(let member): "forgotten \(member.id.shortDescription)"
        }
    }
}
