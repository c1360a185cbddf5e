/// A name inside a swarm: labels under a top-level name, as in DNS
/// (`printer.lab.alice`).
///
/// ### Purpose
/// Every name is rooted in a key. The top-level name (the rightmost label) is either a
/// peer ID in its 52-character text form, which names that key's zone, or a human name
/// pinned to a key by the swarm's configuration (``OverlayConfiguration/namePins``).
/// The labels below it are walked right to left, each looked up in the zone the
/// previous one delegated to. Labels are 1 to 63 bytes of `a-z`, `0-9`, `-` and `_`;
/// upper case is folded to lower case, so names compare as DNS names do.
public struct OverlayName: Hashable, Sendable, CustomStringConvertible {
    /// The top-level name.
    public enum TopLevel: Hashable, Sendable {
        /// A key's own zone: the peer ID's text form.
        case key(PeerID)
        /// A human name that the configuration pins to a key.
        case pinned(String)
    }

    /// The labels below the top-level name, leftmost first (`["printer", "lab"]`).
    public let labels: [String]
    /// The top-level name.
    public let topLevel: TopLevel

    /// Parses a name's text form.
    /// - Throws: ``NameError/invalidName(_:)`` or ``NameError/tooDeep(_:)``.
    public init(_ text: String) throws(NameError) {
        let folded = text.lowercased()
        let trimmed = folded.hasSuffix(".") ? String(folded.dropLast()) : folded
        guard !trimmed.isEmpty else { throw .invalidName("empty name") }
        guard trimmed.utf8.count <= NameConstants.maximumNameLength else {
            throw .invalidName("longer than \(NameConstants.maximumNameLength) bytes")
        }
        var parts = trimmed.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let top = parts.removeLast()
        guard parts.count <= NameConstants.maximumDepth else { throw .tooDeep(trimmed) }
        for label in parts {
            guard Self.isValidLabel(label) else { throw .invalidName("bad label \"\(label)\" in \(trimmed)") }
        }
        if let key = try? PeerID(top) {
            topLevel = .key(key)
        } else {
            guard Self.isValidLabel(top) else { throw .invalidName("bad top-level name \"\(top)\"") }
            topLevel = .pinned(top)
        }
        labels = parts
    }

    /// A name in `zone`'s own zone.
    public init(labels: [String], zone: PeerID) {
        self.labels = labels
        self.topLevel = .key(zone)
    }

    /// The text form, labels then the top-level name, dot-separated.
    public var description: String {
        let top =
            switch topLevel {
            case .key(let key): key.description
            case .pinned(let name): name
            }
        return (labels + [top]).joined(separator: ".")
    }

    /// The path below the top-level name, as a chain stored for it names it
    /// (``NameChain/path``): the labels joined by dots; empty for the apex.
    public var path: String { labels.joined(separator: ".") }

    /// The name one label up (`lab.alice` for `printer.lab.alice`); `nil` at the top.
    public var parent: OverlayName? {
        guard !labels.isEmpty else { return nil }
        return OverlayName(labels: Array(labels.dropFirst()), topLevel: topLevel)
    }

    private init(labels: [String], topLevel: TopLevel) {
        self.labels = labels
        self.topLevel = topLevel
    }

    /// The key the top-level name stands for: its own, or its pin.
    /// - Throws: ``NameError/unpinnedTopLevel(_:)``.
    public func rootZone(pins: [String: PeerID]) throws(NameError) -> PeerID {
        switch topLevel {
        case .key(let key): return key
        case .pinned(let name):
            guard let key = pins[name] else { throw .unpinnedTopLevel(name) }
            return key
        }
    }

    /// Whether `label` is 1 to 63 bytes of `a-z`, `0-9`, `-` and `_`.
    public static func isValidLabel(_ label: String) -> Bool {
        let utf8 = label.utf8
        guard (1...NameConstants.maximumLabelLength).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"),
                UInt8(ascii: "_"):
                true
            default: false
            }
        }
    }
}
