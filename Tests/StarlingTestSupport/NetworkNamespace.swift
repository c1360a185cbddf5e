import Foundation
import Synchronization

/// A Linux network namespace that a test creates, uses and always removes.
///
/// ### Purpose
/// Multicast and broadcast sent in the machine's own namespace leave the
/// machine. Every test that multicasts or broadcasts therefore runs its
/// programs inside a namespace of its own: ``withFresh(_:)`` for one isolated
/// host, ``NamespaceLab`` for several hosts on a bridged LAN.
///
/// ### Usage
/// ```swift
/// @Test(.requiresNetworkNamespaces)
/// func something() async throws {
///     try await NetworkNamespace.withFresh { ns in
///         let listener = try ns.spawn(try StarlingBinary.path(), ["udp", "listen", "--port", "47001"])
///         try await listener.waitForLine(timeout: .seconds(10)) { $0 == "ready" }
///         // …
///     }
/// }
/// ```
///
/// A fresh namespace has `lo` up with the MULTICAST flag and a `224.0.0.0/4`
/// route on `lo`, so a program inside can join groups and loop multicast back
/// to itself without any other interface.
///
/// - Warning: Requires root (CAP_SYS_ADMIN and CAP_NET_ADMIN). Mark tests with
///   ``Testing/Trait/requiresNetworkNamespaces`` so they skip cleanly elsewhere;
///   see ``NetnsRequirement``.
public final class NetworkNamespace: Sendable {
    /// The namespace's name, as `ip netns list` shows it (`stl-<pid>-<n>-<role>`).
    public let name: String

    private let children = Mutex<[ChildProcess]>([])

    private init(name: String) {
        self.name = name
    }

    /// Runs `body` with a fresh namespace, which is removed afterwards even when `body` throws.
    ///
    /// - Parameter body: the test code; it starts programs with ``run(_:_:timeout:)``
    ///   and ``spawn(_:_:)``.
    /// - Returns: what `body` returns.
    /// - Throws: ``NamespaceError/unavailable(reason:)`` when namespaces cannot be
    ///   created, a setup command's error, or what `body` throws.
    @discardableResult
    public static func withFresh<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (NetworkNamespace) async throws -> Result
    ) async throws -> Result {
        let namespace = try create(role: "ns")
        defer { namespace.destroy() }
        try namespace.setUpLoopback(multicast: true)
        return try await body(namespace)
    }

    /// Creates an empty namespace named for `role`.
    ///
    /// - Throws: ``NamespaceError/unavailable(reason:)`` when namespaces cannot be created.
    static func create(role: String) throws -> NetworkNamespace {
        try NetnsRequirement.check()
        NamespaceNames.sweepOnce
        let name = NamespaceNames.make(role: role)
        try SystemTool.ip.run(["netns", "add", name])
        return NetworkNamespace(name: name)
    }

    /// Brings `lo` up; with `multicast`, also sets its MULTICAST flag and routes 224.0.0.0/4 to it.
    func setUpLoopback(multicast: Bool) throws {
        try ip(["link", "set", "lo", "up"])
        guard multicast else { return }
        try ip(["link", "set", "lo", "multicast", "on"])
        try ip(["route", "add", "224.0.0.0/4", "dev", "lo"])
    }

    /// Plugs `host` into `bridge`, a bridge of this namespace: a veth pair whose end
    /// `port` is a port of the bridge, up, and whose other end is `interface` in `host`
    /// (down and unaddressed: the lab addresses it).
    func plug(_ host: NetworkNamespace, as interface: String, intoBridge bridge: String, port: String) throws {
        try ip(["link", "add", port, "type", "veth", "peer", "name", interface, "netns", host.name])
        try ip(["link", "set", port, "master", bridge])
        try ip(["link", "set", port, "up"])
    }

    /// Runs `ip -n <name> <arguments>`, that is, `ip` acting on this namespace.
    ///
    /// - Parameter arguments: the `ip` arguments, for example `["-j", "link", "show", "lo"]`.
    /// - Returns: its standard output.
    /// - Throws: ``NamespaceError/commandFailed(command:status:stderr:)``.
    @discardableResult
    public func ip(_ arguments: [String]) throws -> String {
        try SystemTool.ip.run(["-n", name] + arguments)
    }

    /// Starts `executable` inside the namespace (through `ip netns exec`) and returns at once.
    ///
    /// The child is killed when the namespace is torn down if it is still running.
    /// - Parameters:
    ///   - executable: absolute path of the program.
    ///   - arguments: its arguments.
    /// - Returns: the running child, whose output can be awaited line by line.
    /// - Throws: when the program cannot be started.
    public func spawn(_ executable: String, _ arguments: [String]) throws -> ChildProcess {
        guard let ipPath = SystemTool.ip.path else {
            throw NamespaceError.unavailable(reason: "`ip` (iproute2) is not installed")
        }
        let child = try ChildProcess(ipPath, ["netns", "exec", name, executable] + arguments)
        children.withLock { $0.append(child) }
        return child
    }

    /// Runs `executable` inside the namespace to completion.
    ///
    /// - Parameters:
    ///   - executable: absolute path of the program.
    ///   - arguments: its arguments.
    ///   - timeout: how long it may run before it is killed and the call throws.
    /// - Returns: its exit status and output (a nonzero status is not an error).
    /// - Throws: ``ChildProcessError/timedOut(command:waitingFor:after:stdout:stderr:)``
    ///   or a start failure.
    @discardableResult
    public func run(
        _ executable: String,
        _ arguments: [String],
        timeout: Duration = .seconds(30)
    ) async throws -> ProcessResult {
        try await spawn(executable, arguments).waitForExit(timeout: timeout)
    }

    /// The names of the namespaces that exist now, as `ip netns list` prints them.
    ///
    /// - Throws: ``NamespaceError`` when `ip` is missing or fails.
    public static func existingNames() throws -> Set<String> {
        let listing = try SystemTool.ip.run(["netns", "list"])
        return Set(listing.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
    }

    /// Kills the children still running inside and deletes the namespace.
    ///
    /// Deleting the namespace also removes the interfaces inside it (and so both
    /// ends of any veth pair with one end inside). Errors are ignored: this runs
    /// from `defer`, and a leftover is swept by a later run.
    func destroy() {
        for child in children.withLock({ $0 }) { child.kill() }
        _ = try? SystemTool.ip.run(["netns", "delete", name])
    }
}
