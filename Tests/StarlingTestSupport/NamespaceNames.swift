import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a namespace operation failed.
public enum NamespaceError: Error, CustomStringConvertible {
    /// Network namespaces cannot be created here (not root, or `ip netns add` is refused).
    case unavailable(reason: String)
    /// An administrative command (`ip`, `bridge`) failed.
    case commandFailed(command: String, status: Int32, stderr: String)
    /// The lab was asked for a host count it cannot address.
    case badHostCount(Int)

    public var description: String {
        switch self {
        case .unavailable(let reason):
            "network namespaces are unavailable: \(reason)"
        case .commandFailed(let command, let status, let stderr):
            "`\(command)` failed with status \(status): \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .badHostCount(let count):
            "a namespace lab holds 1 to \(NamespaceLab.maximumHosts) hosts, not \(count)"
        }
    }
}

/// The administrative programs the namespace helpers drive.
enum SystemTool: String {
    case ip
    case bridge

    /// The absolute path of the program, looked up in the usual system folders.
    var path: String? {
        ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
            .map { "\($0)/\(rawValue)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs the tool and returns its standard output.
    ///
    /// These are short kernel-configuration calls; they run synchronously so that
    /// cleanup can call them from `defer`.
    /// - Throws: ``NamespaceError/commandFailed(command:status:stderr:)`` on a nonzero exit.
    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        guard let path else {
            throw NamespaceError.unavailable(reason: "`\(rawValue)` (iproute2) is not installed")
        }
        let result = try Subprocess.runBlocking(path, arguments)
        guard result.status == 0, !result.uncaughtSignal else {
            throw NamespaceError.commandFailed(
                command: ([rawValue] + arguments).joined(separator: " "),
                status: result.status,
                stderr: result.stderr
            )
        }
        return result.stdout
    }
}

/// Unique names for the namespaces this process creates, and the sweep of stale ones.
///
/// A name reads `stl-<pid>-<counter>-<role>`, for example `stl-4242-7-h2`: the
/// process id keeps parallel test processes apart, the counter keeps parallel
/// tests in one process apart, and the role is for people reading `ip netns list`.
enum NamespaceNames {
    /// The prefix of every namespace the helpers create.
    static let prefix = "stl-"

    /// How old a dead process's namespace must be before a sweep removes it; a
    /// guard against a process in another PID namespace that only looks dead.
    static let staleAge: TimeInterval = 60

    private static let counter = Mutex(0)

    /// A fresh name for a namespace playing `role`.
    static func make(role: String) -> String {
        let serial = counter.withLock { value in
            value += 1
            return value
        }
        return "\(prefix)\(getpid())-\(serial)-\(role)"
    }

    /// The process id encoded in `name`, or nil when it is not one of ours.
    static func ownerPID(of name: String) -> pid_t? {
        guard name.hasPrefix(prefix) else { return nil }
        let fields = name.dropFirst(prefix.count).split(separator: "-")
        guard fields.count >= 3, let pid = pid_t(fields[0]), pid > 0 else { return nil }
        return pid
    }

    /// Removes namespaces left behind by crashed runs, once per process.
    ///
    /// A namespace is stale when its name carries our prefix, the process that
    /// named it no longer exists, and it is older than ``staleAge``.
    static let sweepOnce: Void = {
        let folder = "/run/netns"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names {
            guard let pid = ownerPID(of: name), pid != getpid(), !isAlive(pid) else { continue }
            let attributes = try? FileManager.default.attributesOfItem(atPath: "\(folder)/\(name)")
            let created = attributes?[.modificationDate] as? Date ?? .distantPast
            guard Date().timeIntervalSince(created) > staleAge else { continue }
            _ = try? SystemTool.ip.run(["netns", "delete", name])
        }
    }()

    private static func isAlive(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }
}
