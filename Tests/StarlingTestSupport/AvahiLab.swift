import Foundation
public import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A standard mDNS responder, avahi-daemon, running inside a network namespace a test
/// created, with avahi-publish and avahi-browse to drive it.
///
/// ### Purpose
/// Interoperability tests put Starling's mDNS on one host of a lab and avahi on another.
/// Each ``AvahiNode`` is one avahi host: a private D-Bus system bus and an avahi-daemon
/// of its own, so several nodes (and a host avahi, if any) never meet.
///
/// ### How it is isolated (the recipe)
/// - **D-Bus**: `dbus-daemon --config-file=<tmp>/bus.conf --nofork --nopidfile
///   --print-address`, whose configuration listens on `unix:path=<tmp>/bus` and allows
///   everything; the daemon and every client get `DBUS_SYSTEM_BUS_ADDRESS` pointing at
///   it. The bus is reached through the file system, so a client could run anywhere;
///   it is still run in the node's namespace.
/// - **avahi-daemon**: its run directory (`/run/avahi-daemon`: pid file and socket) and
///   service directory are compiled in, so the daemon starts from
///   `sh -c 'mount -t tmpfs tmpfs /run; mkdir /run/avahi-daemon; chown avahi:avahi …;
///   exec avahi-daemon -f <tmp>/avahi.conf --no-drop-root --no-chroot --no-rlimits --debug'`
///   under `ip netns exec`, which runs every command in a private mount namespace
///   (mounts made there never reach the machine), so each daemon sees an empty `/run`
///   of its own; `/etc/avahi/services` is hidden the same way. Its configuration is a
///   temporary file: `allow-interfaces=` the lab interface, IPv4 and IPv6, no wide-area,
///   no reflector, no HINFO or workstation records.
/// - **Readiness**: each step waits for the line the program prints when ready (the bus
///   address; `Server startup complete`; `Established under name`), never a sleep.
/// - **Teardown**: ``stop()`` ends clients, daemon and bus (SIGTERM, then SIGKILL after
///   a bounded wait) and removes the temporary directory; ``with(in:interface:hostName:_:)``
///   always calls it.
///
/// ### Usage
/// ```swift
/// @Test(.requiresNetworkNamespaces, .requiresAvahi)
/// func avahiSeesIt() async throws {
///     try await NamespaceLab.with(hosts: 2) { lab in
///         try await AvahiNode.with(in: lab.hosts[0].namespace, interface: "eth0", hostName: "lab-a") { avahi in
///             let services = try await avahi.waitForServices("_demo._udp", timeout: .seconds(20)) { !$0.isEmpty }
///         }
///     }
/// }
/// ```
///
/// - Warning: needs root and the Debian packages `avahi-daemon`, `avahi-utils` and
///   `dbus`; see ``AvahiLab``.
public final class AvahiNode: Sendable {
    /// The namespace the node runs in.
    public let namespace: NetworkNamespace
    /// The lab interface avahi runs on (`allow-interfaces=`).
    public let interface: String
    /// The host name avahi was configured with (avahi may rename it on a conflict).
    public let hostName: String
    /// The node's private D-Bus address, `unix:path=…`.
    public let busAddress: String

    private let directory: URL
    private let bus: ChildProcess
    private let daemon: ChildProcess
    private let clients = LockedChildren()

    private init(
        namespace: NetworkNamespace, interface: String, hostName: String, busAddress: String, directory: URL,
        bus: ChildProcess, daemon: ChildProcess
    ) {
        self.namespace = namespace
        self.interface = interface
        self.hostName = hostName
        self.busAddress = busAddress
        self.directory = directory
        self.bus = bus
        self.daemon = daemon
    }

    /// Starts a node, runs `body` with it, and stops it even when `body` throws.
    ///
    /// - Parameters:
    ///   - namespace: the namespace to run avahi in (the test created it).
    ///   - interface: the lab interface inside it, with its addresses already set.
    ///   - hostName: avahi's host name, for example `lab-a` (it publishes `lab-a.local`).
    ///   - body: the test code.
    /// - Returns: what `body` returns.
    /// - Throws: ``AvahiLabError`` when avahi cannot be installed or started, or what
    ///   `body` throws.
    @discardableResult
    public static func with<Result>(
        in namespace: NetworkNamespace, interface: String, hostName: String,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (AvahiNode) async throws -> Result
    ) async throws -> Result {
        let node = try await start(in: namespace, interface: interface, hostName: hostName)
        do {
            let result = try await body(node)
            await node.stop()
            return result
        } catch {
            await node.stop()
            throw error
        }
    }

    /// Starts the bus and the daemon in `namespace` and waits until the daemon has
    /// finished starting up (its host name registered).
    ///
    /// - Parameters:
    ///   - namespace: the namespace to run avahi in.
    ///   - interface: the lab interface inside it.
    ///   - hostName: avahi's host name.
    ///   - timeout: how long each step may take.
    /// - Returns: the running node; call ``stop()`` when done.
    /// - Throws: ``AvahiLabError``.
    public static func start(
        in namespace: NetworkNamespace, interface: String, hostName: String, timeout: Duration = .seconds(20)
    ) async throws -> AvahiNode {
        try AvahiLab.check()
        let directory = try AvahiLab.makeDirectory()
        var started: [ChildProcess] = []
        do {
            let busConfig = directory.appendingPathComponent("bus.conf")
            let socketPath = directory.appendingPathComponent("bus").path
            try AvahiLab.busConfiguration(socketPath: socketPath).write(
                to: busConfig, atomically: true, encoding: .utf8)
            let daemonConfig = directory.appendingPathComponent("avahi-daemon.conf")
            try AvahiLab.daemonConfiguration(interface: interface, hostName: hostName)
                .write(to: daemonConfig, atomically: true, encoding: .utf8)

            let bus = try namespace.spawn(
                AvahiLab.tools.dbusDaemon,
                ["--config-file=\(busConfig.path)", "--nofork", "--nopidfile", "--print-address"])
            started.append(bus)
            try await waitFor(bus, "the D-Bus address", timeout: timeout) { $0.hasPrefix("unix:") }

            let daemon = try namespace.spawn(
                "/bin/sh",
                [
                    "-c", AvahiLab.daemonScript, "avahi-lab", AvahiLab.tools.avahiDaemon, daemonConfig.path,
                    "unix:path=\(socketPath)",
                ])
            started.append(daemon)
            try await waitFor(daemon, "avahi-daemon's startup", timeout: timeout) {
                $0.contains("Server startup complete")
            }
            return AvahiNode(
                namespace: namespace, interface: interface, hostName: hostName,
                busAddress: "unix:path=\(socketPath)", directory: directory, bus: bus, daemon: daemon)
        } catch {
            for child in started.reversed() { child.kill() }
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// Publishes a service with `avahi-publish -s` and waits until avahi has registered it
    /// (after probing its name on the link).
    ///
    /// - Parameters:
    ///   - name: the instance name, for example `Demo One`.
    ///   - type: the service type, for example `_demo._udp`.
    ///   - port: the SRV port.
    ///   - txt: TXT strings, for example `["k=v"]`.
    ///   - timeout: how long registration may take.
    /// - Returns: the publisher; it runs until ``AvahiPublication/withdraw(timeout:)`` or ``stop()``.
    /// - Throws: ``AvahiLabError/timedOut(_:output:)`` or a start failure.
    public func publish(
        name: String, type: String, port: UInt16, txt: [String] = [], timeout: Duration = .seconds(20)
    ) async throws -> AvahiPublication {
        let child = try client(AvahiLab.tools.avahiPublish, ["-s", name, type, "\(port)"] + txt)
        let line = try await Self.waitFor(child, "avahi-publish to register \(name)", timeout: timeout) {
            $0.hasPrefix("Established under name")
        }
        return AvahiPublication(child: child, line: line)
    }

    /// Runs `avahi-browse -rpt type` once: the services of `type` avahi knows or finds
    /// within its initial query round, resolved.
    ///
    /// - Parameters:
    ///   - type: the service type, for example `_demo._udp`.
    ///   - timeout: how long the browse may take.
    /// - Returns: the resolved services (the `=` lines).
    /// - Throws: ``AvahiLabError/clientFailed(command:status:output:)`` or a timeout.
    public func browse(_ type: String, timeout: Duration = .seconds(20)) async throws -> [AvahiService] {
        let child = try client(AvahiLab.tools.avahiBrowse, ["-rpt", type])
        let result = try await child.waitForExit(timeout: timeout)
        guard result.status == 0, !result.uncaughtSignal else {
            throw AvahiLabError.clientFailed(command: child.command, status: result.status, output: result.stdout)
        }
        return result.stdout.split(separator: "\n").compactMap { AvahiService(browseLine: String($0)) }
    }

    /// Starts `avahi-browse -rp type`, which keeps running and prints every service of
    /// `type` as it is found (`+`), resolved (`=`) and removed (`-`).
    ///
    /// - Parameter type: the service type, for example `_demo._udp`.
    /// - Returns: the running browser; ``stop()`` ends it if the test does not.
    /// - Throws: when it cannot be started.
    public func startBrowsing(_ type: String) throws -> AvahiBrowser {
        AvahiBrowser(child: try client(AvahiLab.tools.avahiBrowse, ["-rp", type]))
    }

    /// Browses `type` again and again until the resolved services satisfy `condition`.
    ///
    /// - Parameters:
    ///   - type: the service type.
    ///   - timeout: the deadline for the condition; also at most 100 browses.
    ///   - condition: what the resolved services must satisfy.
    /// - Returns: the services of the first browse that satisfied `condition`.
    /// - Throws: ``AvahiLabError/timedOut(_:output:)`` with the last browse's services.
    @discardableResult
    public func waitForServices(
        _ type: String, timeout: Duration = .seconds(20), until condition: ([AvahiService]) -> Bool
    ) async throws -> [AvahiService] {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var last: [AvahiService] = []
        for _ in 0..<100 {
            let remaining = deadline - clock.now
            last = try await browse(type, timeout: max(remaining, .seconds(5)))
            if condition(last) { return last }
            guard clock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw AvahiLabError.timedOut(
            "services of \(type) satisfying the condition within \(timeout)",
            output: last.map { "\($0)" }.joined(separator: "\n"))
    }

    /// Stops every client, the daemon and the bus, and removes the temporary directory.
    /// Calling it again does no harm.
    public func stop() async {
        for child in clients.takeAll() {
            child.terminate()
            _ = try? await child.waitForExit(timeout: .seconds(5))
        }
        for child in [daemon, bus] {
            child.terminate()
            _ = try? await child.waitForExit(timeout: .seconds(5))
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts an avahi client in the namespace on the node's bus, its standard error
    /// merged into its output.
    private func client(_ tool: String, _ arguments: [String]) throws -> ChildProcess {
        let script = "export DBUS_SYSTEM_BUS_ADDRESS=\"$1\"; shift; exec \"$@\" 2>&1"
        let child = try namespace.spawn("/bin/sh", ["-c", script, "avahi-client", busAddress, tool] + arguments)
        clients.append(child)
        return child
    }

    /// Waits for `child`'s line satisfying `predicate`, turning a timeout or an early
    /// exit into ``AvahiLabError/timedOut(_:output:)``.
    @discardableResult
    private static func waitFor(
        _ child: ChildProcess, _ what: String, timeout: Duration,
        where predicate: @escaping @Sendable (String) -> Bool
    ) async throws -> String {
        do {
            return try await child.waitForLine(timeout: timeout, where: predicate)
        } catch {
            throw AvahiLabError.timedOut(what, output: "\(error)")
        }
    }
}

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
        child.terminate()
        _ = try? await child.waitForExit(timeout: .seconds(5))
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

    /// Ends the publisher with SIGTERM (avahi then sends goodbye records) and waits for it.
    ///
    /// - Parameter timeout: how long to wait before killing it.
    public func withdraw(timeout: Duration = .seconds(5)) async {
        child.terminate()
        _ = try? await child.waitForExit(timeout: timeout)
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

/// Why an avahi lab could not run.
public enum AvahiLabError: Error, CustomStringConvertible {
    /// avahi cannot run here (not root, packages missing and not installable); the reason says which.
    case unavailable(reason: String)
    /// A program did not print what was awaited in time; `output` holds what it printed.
    case timedOut(String, output: String)
    /// An avahi client exited with a failure.
    case clientFailed(command: String, status: Int32, output: String)

    public var description: String {
        switch self {
        case .unavailable(let reason): "avahi lab unavailable: \(reason)"
        case .timedOut(let what, let output): "timed out waiting for \(what); output:\n\(output)"
        case .clientFailed(let command, let status, let output): "`\(command)` failed (\(status)):\n\(output)"
        }
    }
}

/// Whether avahi can run in namespaces here, installing it when missing, and the
/// configuration files of an ``AvahiNode``.
///
/// ### Installation
/// When a program is missing and the process is root, ``check()`` runs, once per
/// process, `apt-get install -y --no-install-recommends avahi-daemon avahi-utils dbus`
/// (no `libnss-mdns`, which would edit `/etc/nsswitch.conf`). So that the package's
/// scripts never start an avahi-daemon in the machine's own namespace, which would
/// multicast on its network, the install runs under a `policy-rc.d` that refuses
/// service starts (written for the install only, when none exists) and, on a machine
/// run by systemd, masks `avahi-daemon.service` and `avahi-daemon.socket` afterwards.
public enum AvahiLab {
    /// The programs an ``AvahiNode`` runs.
    struct Tools {
        let dbusDaemon = "/usr/bin/dbus-daemon"
        let avahiDaemon = "/usr/sbin/avahi-daemon"
        let avahiPublish = "/usr/bin/avahi-publish"
        let avahiBrowse = "/usr/bin/avahi-browse"

        var all: [String] { [dbusDaemon, avahiDaemon, avahiPublish, avahiBrowse] }
    }

    static let tools = Tools()

    /// Why avahi cannot run here, or nil when it can. Probed (and installed) once per process.
    public static var unavailableReason: String? { probe }

    /// Whether an avahi test should run: avahi is usable, or namespace tests are required
    /// (`STARLING_REQUIRE_NETNS=1`), so that a missing avahi fails instead of skipping.
    public static var shouldRun: Bool { unavailableReason == nil || NetnsRequirement.isRequired }

    /// The message shown when an avahi test is skipped.
    public static var skipMessage: String {
        "avahi lab unavailable (\(unavailableReason ?? "available")). Run as root on Debian, or set "
            + "\(NetnsRequirement.environmentVariable)=1 to make this a failure."
    }

    /// Throws when avahi cannot run here.
    /// - Throws: ``AvahiLabError/unavailable(reason:)``.
    public static func check() throws {
        try NetnsRequirement.check()
        if let reason = unavailableReason { throw AvahiLabError.unavailable(reason: reason) }
    }

    private static let probe: String? = {
        guard geteuid() == 0 else { return "not running as root (euid \(geteuid()))" }
        if missingTools().isEmpty { return nil }
        if let failure = install() { return failure }
        let missing = missingTools()
        return missing.isEmpty ? nil : "still missing after installation: \(missing.joined(separator: ", "))"
    }()

    private static func missingTools() -> [String] {
        tools.all.filter { !FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Installs the packages without letting them start a daemon here; nil on success,
    /// else why it failed.
    private static func install() -> String? {
        let aptGet = "/usr/bin/apt-get"
        guard FileManager.default.isExecutableFile(atPath: aptGet) else {
            return "avahi is not installed and apt-get is not available"
        }
        let policy = "/usr/sbin/policy-rc.d"
        let ownPolicy = !FileManager.default.fileExists(atPath: policy)
        if ownPolicy {
            let denyAll = "#!/bin/sh\n# Written by Starling's avahi lab for one apt-get run.\nexit 101\n"
            guard FileManager.default.createFile(atPath: policy, contents: Data(denyAll.utf8)),
                chmod(policy, 0o755) == 0
            else { return "could not write \(policy)" }
        }
        defer { if ownPolicy { try? FileManager.default.removeItem(atPath: policy) } }
        let arguments = [
            "DEBIAN_FRONTEND=noninteractive", aptGet, "install", "-y", "--no-install-recommends",
            "avahi-daemon", "avahi-utils", "dbus",
        ]
        var result = try? Subprocess.runBlocking("/usr/bin/env", arguments)
        if result?.status != 0 {
            // A fresh machine may have no package lists yet.
            _ = try? Subprocess.runBlocking("/usr/bin/env", ["DEBIAN_FRONTEND=noninteractive", aptGet, "update"])
            result = try? Subprocess.runBlocking("/usr/bin/env", arguments)
        }
        guard let result, result.status == 0 else {
            return "apt-get install avahi-daemon avahi-utils dbus failed: \(result?.stderr ?? "did not run")"
        }
        if FileManager.default.fileExists(atPath: "/run/systemd/system") {
            _ = try? Subprocess.runBlocking(
                "/usr/bin/env", ["systemctl", "mask", "--now", "avahi-daemon.service", "avahi-daemon.socket"])
        }
        return nil
    }

    /// A fresh private directory for one node's files (short: it holds a socket path).
    static func makeDirectory() throws -> URL {
        let template = "/tmp/stl-avahi-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let path = mkdtemp(&bytes) else {
            throw AvahiLabError.unavailable(reason: "mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        return URL(fileURLWithPath: String(cString: path))
    }

    /// The script that starts avahi-daemon with a private `/run`: `$1` the daemon, `$2`
    /// its configuration file, `$3` the bus address. Its log goes to standard output.
    static let daemonScript = """
        set -e
        mount -t tmpfs -o mode=0755 tmpfs /run
        mkdir /run/avahi-daemon
        chown avahi:avahi /run/avahi-daemon
        if [ -d /etc/avahi/services ]; then mount -t tmpfs tmpfs /etc/avahi/services; fi
        export DBUS_SYSTEM_BUS_ADDRESS="$3"
        exec "$1" -f "$2" --no-drop-root --no-chroot --no-rlimits --no-proc-title --debug 2>&1
        """

    /// A system bus on `socketPath` that lets everyone own and call everything (the lab's
    /// only clients are the node's avahi programs).
    static func busConfiguration(socketPath: String) -> String {
        """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>system</type>
          <listen>unix:path=\(socketPath)</listen>
          <auth>EXTERNAL</auth>
          <policy context="default">
            <allow user="*"/>
            <allow own="*"/>
            <allow send_destination="*" eavesdrop="true"/>
            <allow eavesdrop="true"/>
          </policy>
        </busconfig>

        """
    }

    /// avahi-daemon's configuration for one lab interface.
    static func daemonConfiguration(interface: String, hostName: String) -> String {
        """
        [server]
        host-name=\(hostName)
        domain-name=local
        use-ipv4=yes
        use-ipv6=yes
        allow-interfaces=\(interface)
        enable-dbus=yes
        disallow-other-stacks=no
        ratelimit-interval-usec=1000000
        ratelimit-burst=1000

        [wide-area]
        enable-wide-area=no

        [publish]
        publish-hinfo=no
        publish-workstation=no

        [reflector]
        enable-reflector=no

        """
    }
}

/// Child processes a node started, under a lock.
private final class LockedChildren: @unchecked Sendable {
    private let lock = NSLock()
    private var children: [ChildProcess] = []

    func append(_ child: ChildProcess) {
        lock.withLock { children.append(child) }
    }

    func takeAll() -> [ChildProcess] {
        lock.withLock {
            defer { children = [] }
            return children
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only where the avahi lab can run (root, avahi installed or
    /// installable), unless `STARLING_REQUIRE_NETNS=1` demands it; otherwise it is skipped.
    public static var requiresAvahi: Self {
        .enabled(if: AvahiLab.shouldRun, Comment(rawValue: AvahiLab.skipMessage))
    }
}
