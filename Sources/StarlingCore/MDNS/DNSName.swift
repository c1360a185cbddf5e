/// A DNS name: a sequence of labels, each up to 63 bytes, at most 255 bytes in wire form.
///
/// ### Purpose
/// Labels are kept as raw bytes (mDNS names are UTF-8, RFC 6762 §16), so a DNS-SD
/// instance label may hold dots and spaces. Comparison and hashing ignore ASCII case
/// only (RFC 6762 §16: `A`–`Z` match `a`–`z`; other bytes compare exactly).
///
/// The text form (``description`` and ``init(_:)``) separates labels with `.` and
/// escapes a `.` or `\` inside a label with a backslash, as RFC 6763 §4.3 shows.
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// The labels, most specific first, without the empty root label.
    public let labels: [[UInt8]]

    /// The root name (no labels).
    public static let root = DNSName(validated: [])

    /// Creates a name from its labels.
    /// - Throws: ``DNSWireError/labelTooLong(length:)``, ``DNSWireError/emptyLabel`` or
    ///   ``DNSWireError/nameTooLong``.
    public init(labels: [[UInt8]]) throws(DNSWireError) {
        var length = 1
        for label in labels {
            guard !label.isEmpty else { throw .emptyLabel }
            guard label.count <= MDNSConstants.maximumLabelLength else { throw .labelTooLong(length: label.count) }
            length += 1 + label.count
        }
        guard length <= MDNSConstants.maximumNameLength else { throw .nameTooLong }
        self.labels = labels
    }

    /// Creates a name from labels already checked against every limit.
    init(validated labels: [[UInt8]]) {
        self.labels = labels
    }

    /// Parses the text form: labels separated by `.`, `\.` and `\\` escaping a dot or
    /// backslash inside a label; a trailing dot is allowed.
    /// - Throws: the errors of ``init(labels:)``.
    public init(_ text: String) throws(DNSWireError) {
        var labels: [[UInt8]] = []
        var current: [UInt8] = []
        var escaped = false
        for byte in text.utf8 {
            if escaped {
                current.append(byte)
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: ".") {
                labels.append(current)
                current = []
            } else {
                current.append(byte)
            }
        }
        if !current.isEmpty || escaped { labels.append(current + (escaped ? [UInt8(ascii: "\\")] : [])) }
        if labels.count == 1 && labels[0].isEmpty { labels = [] }
        try self.init(labels: labels)
    }

    /// Creates `label.parent`.
    /// - Throws: the errors of ``init(labels:)``.
    public init(label: String, parent: DNSName) throws(DNSWireError) {
        try self.init(labels: [Array(label.utf8)] + parent.labels)
    }

    /// The length of the uncompressed wire form, root byte included.
    public var wireLength: Int { labels.reduce(1) { $0 + 1 + $1.count } }

    /// The name without its first label (the root's parent is the root).
    public var parent: DNSName { DNSName(validated: Array(labels.dropFirst())) }

    /// The first label as text (replacing invalid UTF-8), or `""` for the root.
    public var firstLabel: String { labels.first.map { String(decoding: $0, as: UTF8.self) } ?? "" }

    /// The uncompressed wire form with ASCII letters lowered, for canonical comparisons.
    public var canonicalWireForm: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(wireLength)
        for label in labels {
            bytes.append(UInt8(label.count))
            for byte in label { bytes.append(Self.lowered(byte)) }
        }
        bytes.append(0)
        return bytes
    }

    /// Whether `self` ends with `suffix` (case-insensitively).
    public func hasSuffix(_ suffix: DNSName) -> Bool {
        guard suffix.labels.count <= labels.count else { return false }
        let offset = labels.count - suffix.labels.count
        for index in 0..<suffix.labels.count where !Self.equal(labels[offset + index], suffix.labels[index]) {
            return false
        }
        return true
    }

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.labels.count == rhs.labels.count else { return false }
        for index in 0..<lhs.labels.count where !equal(lhs.labels[index], rhs.labels[index]) { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(labels.count)
        for label in labels {
            hasher.combine(label.count)
            for byte in label { hasher.combine(Self.lowered(byte)) }
        }
    }

    public var description: String {
        guard !labels.isEmpty else { return "." }
        var text: [UInt8] = []
        for (index, label) in labels.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ".")) }
            for byte in label {
                if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "\\") { text.append(UInt8(ascii: "\\")) }
                text.append(byte)
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// `byte` with ASCII `A`–`Z` lowered.
    static func lowered(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// Whether two labels are equal ignoring ASCII case.
    static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for index in 0..<lhs.count where lowered(lhs[index]) != lowered(rhs[index]) { return false }
        return true
    }
}
