import Foundation
public import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why an avahi lab could not run.
public enum AvahiLabError: Error, CustomStringConvertible {
    /// avahi cannot run here (not root, packages missing and not installable); the reason says which.
    case unavailable(reason: String)
    /// A program did not print what was awaited in time; `output` holds what it printed.
    case timedOut(String, output: String)

    public var description: String {
        switch self {
        case .unavailable(let reason): "avahi lab unavailable: \(reason)"
        case .timedOut(let what, let output): "timed out waiting for \(what); output:\n\(output)"
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

    /// Ends `child` and waits (at most `limit`) until it has exited: with SIGTERM when
    /// `gracefully` (then SIGKILL after `limit`), else with SIGKILL at once. Waits for the
    /// exit itself, not for the end of the output: programs started later may have
    /// inherited the output pipes.
    ///
    /// Only avahi-daemon is ended gracefully (it then sends goodbye records for every
    /// service). Started from the test process, avahi-publish, avahi-browse and
    /// dbus-daemon were seen to ignore SIGTERM; killing a client is enough anyway, since
    /// avahi-daemon withdraws (with goodbyes) what a client published when its D-Bus
    /// connection closes.
    static func end(_ child: ChildProcess, gracefully: Bool = false, within limit: Duration = .seconds(5)) async {
        if gracefully { child.terminate() } else { child.kill() }
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while !child.hasExited, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        child.kill()
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
    ///
    /// avahi-daemon closes every descriptor it inherits, among them the socket through
    /// which Foundation's `Process` learns that its child exited; `Process` then waits
    /// for that exit on the one thread that notices every child's, and no other child's
    /// exit is noticed until avahi-daemon ends (the whole test run hung). So the daemon
    /// runs as the shell's child, and the shell, which keeps the socket, waits for it and
    /// passes SIGTERM on.
    static let daemonScript = """
        set -e
        mount -t tmpfs -o mode=0755 tmpfs /run
        mkdir /run/avahi-daemon
        chown avahi:avahi /run/avahi-daemon
        if [ -d /etc/avahi/services ]; then mount -t tmpfs tmpfs /etc/avahi/services; fi
        export DBUS_SYSTEM_BUS_ADDRESS="$3"
        "$1" -f "$2" --no-drop-root --no-chroot --no-rlimits --no-proc-title --debug 2>&1 &
        daemon=$!
        trap 'kill -TERM "$daemon" 2>/dev/null' TERM INT
        wait "$daemon" || wait "$daemon" || true
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
        publish-aaaa-on-ipv4=no
        publish-a-on-ipv6=no

        [reflector]
        enable-reflector=no

        """
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only where the avahi lab can run (root, avahi installed or
    /// installable), unless `STARLING_REQUIRE_NETNS=1` demands it; otherwise it is skipped.
    public static var requiresAvahi: Self {
        .enabled(if: AvahiLab.shouldRun, Comment(rawValue: AvahiLab.skipMessage))
    }
}
