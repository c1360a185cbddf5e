/// A running `avahi-browse -rp`: waits on what it reports, event by event.
public struct AvahiBrowser: Sendable {
    private let child: ChildProcess

    init(child: ChildProcess) {
        self.child = child
    }

    /// Everything the browser printed so far, one line each (its errors included).
    public var lines: [String] { child.stdoutLines }

    /// Waits until the browser has resolved a service that satisfies `predicate` (now or
    /// earlier).
    ///
    /// - Parameters:
    ///   - timeout: the deadline; the browser is killed when it passes.
    ///   - predicate: which service to wait for.
    /// - Returns: the first resolved service that satisfies it.
    /// - Throws: ``AvahiLabError/timedOut(_:output:)`` with the browser's output.
    @discardableResult
    public func waitForResolved(
        timeout: Duration, where predicate: @escaping @Sendable (AvahiService) -> Bool
    ) async throws -> AvahiService {
        let line = try await wait("a resolved service", timeout: timeout) { line in
            AvahiService(browseLine: line).map(predicate) ?? false
        }
        guard let service = AvahiService(browseLine: line) else {
            throw AvahiLabError.timedOut("a parsable line", output: line)
        }
        return service
    }

    /// Waits until the browser reports the instance `name` removed (a `-` line: goodbye
    /// records or expiry), on any interface and family.
    ///
    /// - Parameters:
    ///   - name: the instance name, unescaped.
    ///   - timeout: the deadline; the browser is killed when it passes.
    /// - Throws: ``AvahiLabError/timedOut(_:output:)`` with the browser's output.
    public func waitForRemoval(of name: String, timeout: Duration) async throws {
        _ = try await wait("the removal of \(name)", timeout: timeout) { line in
            let fields = line.split(separator: ";", omittingEmptySubsequences: false)
            return fields.count >= 4 && fields[0] == "-" && AvahiService.unescape(String(fields[3])) == name
        }
    }

    /// Ends the browser and waits for it.
    public func stop() async {
        await AvahiLab.end(child)
    }

    private func wait(
        _ what: String, timeout: Duration, where predicate: @escaping @Sendable (String) -> Bool
    ) async throws -> String {
        do {
            return try await child.waitForLine(timeout: timeout, where: predicate)
        } catch {
            throw AvahiLabError.timedOut(what, output: "\(error)")
        }
    }
}

/// A running `avahi-publish -s`.
public struct AvahiPublication: Sendable {
    private let child: ChildProcess
    /// The line avahi-publish printed on registration, for example
    /// `Established under name 'Demo One'`.
    public let line: String

    init(child: ChildProcess, line: String) {
        self.child = child
        self.line = line
    }

    /// Ends the publisher and waits for it; avahi-daemon then withdraws the service and
    /// sends goodbye records.
    ///
    /// - Parameter timeout: how long to wait before killing it.
    public func withdraw(timeout: Duration = .seconds(5)) async {
        await AvahiLab.end(child, within: timeout)
    }
}

/// One resolved service, from a `=` line of `avahi-browse -rp`:
/// `=;iface;IPv4;name;type;domain;host;address;port;"txt" "txt"…`.
public struct AvahiService: Hashable, Sendable, CustomStringConvertible {
    /// The interface avahi found it on.
    public var interface: String
    /// `IPv4` or `IPv6`: the family of the query that found it.
    public var family: String
    /// The instance name, unescaped (`Demo One`).
    public var name: String
    /// The service type, for example `_demo._udp`.
    public var type: String
    /// The domain, normally `local`.
    public var domain: String
    /// The SRV target host, for example `lab-a.local`.
    public var hostName: String
    /// The host's address as avahi prints it (IPv6 without a zone).
    public var address: String
    /// The SRV port.
    public var port: UInt16
    /// The TXT strings, unquoted, in avahi's order.
    public var txt: [String]

    /// Parses one line of `avahi-browse -rp` output; nil for anything but a `=` line.
    ///
    /// - Parameter line: the line, without its newline.
    public init?(browseLine line: String) {
        let fields = line.split(separator: ";", maxSplits: 9, omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 10, fields[0] == "=", let port = UInt16(fields[8]) else { return nil }
        interface = fields[1]
        family = fields[2]
        name = Self.unescape(fields[3])
        type = fields[4]
        domain = fields[5]
        hostName = fields[6]
        address = fields[7]
        self.port = port
        txt = Self.quotedStrings(fields[9])
    }

    public var description: String {
        "\(name) \(type).\(domain) on \(interface)/\(family): \(hostName) \(address):\(port) \(txt)"
    }

    /// Undoes avahi's label escaping: `\DDD` (a decimal byte) and `\c` (the character).
    static func unescape(_ text: String) -> String {
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            guard byte == UInt8(ascii: "\\"), let next = input.first else {
                bytes.append(byte)
                continue
            }
            let digits = input.prefix(3)
            if digits.count == 3, digits.allSatisfy({ (0x30...0x39).contains($0) }),
                let value = UInt8(String(decoding: digits, as: UTF8.self))
            {
                bytes.append(value)
                input.removeFirst(3)
            } else {
                bytes.append(next)
                input.removeFirst()
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The strings of avahi's TXT rendering `"a=b" "c=d"`, with `\"` and `\\` unescaped.
    static func quotedStrings(_ text: String) -> [String] {
        var strings: [String] = []
        var current: [Character]?
        var escaped = false
        for character in text {
            if var open = current {
                if escaped {
                    open.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    strings.append(String(open))
                    current = nil
                    continue
                } else {
                    open.append(character)
                }
                current = open
            } else if character == "\"" {
                current = []
            }
        }
        return strings
    }
}
