/// Why a group command was refused.
public enum GroupError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not 1 to 255 UTF-8 bytes, or with control characters.
    case invalidName(String)
    /// The payload does not fit one group message.
    case payloadTooLarge(size: Int, maximum: Int)
    /// ``GroupConstants/maximumJoinedGroups`` are joined already.
    case tooManyGroups(maximum: Int)
    /// Too many messages wait for a group's members to be found.
    case tooManyWaiting(maximum: Int)
    /// This peer takes part in no overlay.
    case noOverlay

    public var description: String {
        switch self {
        case .invalidName(let name): "'\(name)' is not a group name (1 to 255 UTF-8 bytes, no control characters)"
        case .payloadTooLarge(let size, let maximum): "group payload of \(size) bytes exceeds \(maximum)"
        case .tooManyGroups(let maximum): "already in \(maximum) groups"
        case .tooManyWaiting(let maximum): "\(maximum) messages already wait for the group's members"
        case .noOverlay: "this peer takes part in no overlay"
        }
    }
}
