/// A DNS-SD service instance to advertise: `<instance>.<type>.<domain>` (RFC 6763 §4.1).
public struct MDNSService: Hashable, Sendable {
    /// Why a service cannot be advertised.
    public enum ValidationError: Error, Equatable, Sendable {
        /// The instance label is empty or longer than 63 bytes (RFC 6763 §4.1.1).
        case invalidInstance(String)
        /// The type is not `_name._udp` or `_name._tcp` with a 1–15 character name (RFC 6763 §7).
        case invalidType(String)
        /// A TXT string is longer than 255 bytes (RFC 6763 §6.1).
        case txtStringTooLong(Int)
        /// The whole name breaks a DNS limit.
        case invalidName(DNSWireError)
    }

    /// The instance label, any UTF-8 up to 63 bytes (dots and spaces allowed).
    public var instance: String
    /// The service type, for example `_starling._udp`.
    public var type: String
    /// The domain, `local` for mDNS.
    public var domain: String
    /// The port the service listens on.
    public var port: UInt16
    /// The TXT strings (`key=value`, RFC 6763 §6); empty publishes a single empty string.
    public var txt: [[UInt8]]

    /// Describes a service instance.
    public init(instance: String, type: String, port: UInt16, txt: [[UInt8]] = [], domain: String = "local") {
        self.instance = instance
        self.type = type
        self.domain = domain
        self.port = port
        self.txt = txt
    }

    /// TXT strings from key/value pairs: `key=value`, or `key` alone for a `nil` value.
    public static func txt(_ pairs: [(String, String?)]) -> [[UInt8]] {
        pairs.map { key, value in Array(key.utf8) + (value.map { [UInt8(ascii: "=")] + Array($0.utf8) } ?? []) }
    }

    /// The service type name, `<type>.<domain>`.
    /// - Throws: ``ValidationError``.
    public func typeName() throws(ValidationError) -> DNSName {
        let labels = type.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count == 2, labels[1] == "_udp" || labels[1] == "_tcp", labels[0].hasPrefix("_"),
            (2...16).contains(labels[0].utf8.count)
        else { throw .invalidType(type) }
        do throws(DNSWireError) { return try DNSName("\(type).\(domain)") } catch { throw .invalidName(error) }
    }

    /// The full instance name, `<instance>.<type>.<domain>`.
    /// - Throws: ``ValidationError``.
    public func instanceName() throws(ValidationError) -> DNSName {
        guard !instance.isEmpty, instance.utf8.count <= MDNSConstants.maximumLabelLength else {
            throw .invalidInstance(instance)
        }
        let parent = try typeName()
        do throws(DNSWireError) { return try DNSName(label: instance, parent: parent) } catch {
            throw .invalidName(error)
        }
    }

    /// Checks every limit.
    /// - Throws: ``ValidationError``.
    public func validate() throws(ValidationError) {
        _ = try instanceName()
        if let long = txt.first(where: { $0.count > 255 }) { throw .txtStringTooLong(long.count) }
    }

    /// `name` with a conflict suffix added or advanced: `Name` → `Name (2)` → `Name (3)`
    /// (RFC 6762 §9 leaves the form to the implementation), trimmed to stay within 63 bytes.
    public static func renamed(_ name: String) -> String {
        var base = Substring(name)
        var number = 2
        if name.hasSuffix(")"), let open = name.lastIndex(of: "("), open > name.startIndex,
            name[name.index(before: open)] == " ",
            let current = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]), current >= 2
        {
            base = name[..<name.index(before: open)]
            number = current + 1
        }
        let suffix = " (\(number))"
        while base.utf8.count + suffix.utf8.count > MDNSConstants.maximumLabelLength { base = base.dropLast() }
        return base + suffix
    }

    /// A host label with a conflict suffix added or advanced: `host` → `host-2` → `host-3`.
    public static func renamedHost(_ label: String) -> String {
        var base = Substring(label)
        var number = 2
        if let dash = label.lastIndex(of: "-"), let current = Int(label[label.index(after: dash)...]), current >= 2 {
            base = label[..<dash]
            number = current + 1
        }
        let suffix = "-\(number)"
        while base.utf8.count + suffix.utf8.count > MDNSConstants.maximumLabelLength { base = base.dropLast() }
        return base + suffix
    }
}
