/// Why a name could not be published or resolved.
public enum NameError: Error, Hashable, Sendable {
    /// The text is not a valid name (empty label, bad character, too long).
    case invalidName(String)
    /// A record's data breaks a wire limit (too many entries, a bad service name, a text
    /// key or value too long).
    case invalidData(String)
    /// The top-level name is neither a peer ID nor pinned in the configuration.
    case unpinnedTopLevel(String)
    /// No record exists for the name (possibly from the negative cache).
    case noSuchName(String)
    /// The only records found had expired.
    case expired(String)
    /// A record or chain failed verification: a bad signature, a signer other than the
    /// zone's key, or a chain that does not lead to the name asked for.
    case forged(String)
    /// A record's sequence number is lower than one already seen for the same name.
    case rolledBack(name: String, seen: UInt64, got: UInt64)
    /// A zone appears twice in the delegation chain.
    case delegationLoop(String)
    /// More than ``NameConstants/maximumDepth`` labels or delegations.
    case tooDeep(String)
    /// The local peer does not own the zone the record belongs in.
    case notOwner(String)
    /// The overlay could not be asked (too many resolutions at once).
    case overloaded
}

extension NameError: CustomStringConvertible {
    /// One line, for people.
    public var description: String {
        switch self {
        case .invalidName(let reason): "invalid name: \(reason)"
        case .invalidData(let reason): "invalid name data: \(reason)"
        case .unpinnedTopLevel(let name): "top-level name \"\(name)\" is neither a peer ID nor pinned"
        case .noSuchName(let name): "no such name: \(name)"
        case .expired(let name): "the records of \(name) have expired"
        case .forged(let reason): "forged record refused: \(reason)"
        case .rolledBack(let name, let seen, let got):
            "rolled-back record of \(name) refused: sequence \(got), already saw \(seen)"
        case .delegationLoop(let name): "delegation loop resolving \(name)"
        case .tooDeep(let name): "\(name) has more than \(NameConstants.maximumDepth) labels or delegations"
        case .notOwner(let name): "the local peer does not own the zone of \(name)"
        case .overloaded: "too many resolutions in progress"
        }
    }
}
