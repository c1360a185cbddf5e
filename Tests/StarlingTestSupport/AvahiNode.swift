import Foundation

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
/// - **Teardown**: ``stop()`` kills the clients, ends the daemon with SIGTERM (SIGKILL
///   after a bounded wait), kills the bus, and removes the temporary directory;
///   ``with(in:interface:hostName:_:)`` always calls it.
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
    /// - Throws: ``AvahiLabError/timedOut(_:output:)`` when it has not exited in time.
    public func browse(_ type: String, timeout: Duration = .seconds(20)) async throws -> [AvahiService] {
        let child = try client(AvahiLab.tools.avahiBrowse, ["-rpt", type])
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        // Waits for the exit itself: the end of its output may come much later (see
        // ``ChildProcess/hasExited``).
        while !child.hasExited {
            guard clock.now < deadline else {
                child.kill()
                throw AvahiLabError.timedOut(
                    "`\(child.command)` to exit", output: child.stdoutLines.joined(separator: "\n"))
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Its last output may still be in the pipe: wait for the line that ends the dump
        // (or the pipe's end) a little.
        _ = try? await child.waitForLine(timeout: .seconds(1)) { _ in false }
        return child.stdoutLines.compactMap { AvahiService(browseLine: $0) }
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

    /// Stops every client, the daemon (gracefully: it says goodbye) and the bus, and
    /// removes the temporary directory.
    /// Calling it again does no harm.
    public func stop() async {
        for child in clients.takeAll() { await AvahiLab.end(child) }
        await AvahiLab.end(daemon, gracefully: true)
        await AvahiLab.end(bus)
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
