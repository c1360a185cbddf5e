import Foundation
public import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whether this machine can run namespace tests, and what to do when it cannot.
///
/// ### Purpose
/// Namespace tests need root and a kernel that lets `ip netns add` work. On a
/// developer's laptop without root they skip, visibly; in CI, where they must
/// run, setting `STARLING_REQUIRE_NETNS=1` turns a missing capability into a
/// test failure instead of a silent skip.
///
/// ### Usage
/// Mark each namespace test (or its suite) with the trait:
/// ```swift
/// @Test(.requiresNetworkNamespaces)
/// func groupReachesMembers() async throws { … }
/// ```
/// Without the capability the test is reported as skipped with the reason.
/// With `STARLING_REQUIRE_NETNS=1` it runs anyway, and ``NetworkNamespace`` and
/// ``NamespaceLab`` throw ``NamespaceError/unavailable(reason:)`` so it fails
/// with the same reason.
public enum NetnsRequirement {
    /// The environment variable that turns a skip into a failure when set to `1`.
    public static let environmentVariable = "STARLING_REQUIRE_NETNS"

    /// Whether the environment demands that namespace tests run.
    public static var isRequired: Bool {
        ProcessInfo.processInfo.environment[environmentVariable] == "1"
    }

    /// Why namespaces cannot be used here, or nil when they can. Probed once per process.
    public static var unavailableReason: String? { probe }

    /// Whether a namespace test should run: the capability is present, or it is required.
    public static var shouldRun: Bool { unavailableReason == nil || isRequired }

    /// The message shown when a namespace test is skipped.
    public static var skipMessage: String {
        "network namespaces unavailable (\(unavailableReason ?? "available")); "
            + "multicast/broadcast tests run only inside namespaces. "
            + "Run as root, or set \(environmentVariable)=1 to make this a failure."
    }

    /// Throws when namespaces are unavailable.
    ///
    /// - Throws: ``NamespaceError/unavailable(reason:)``, naming the reason and, when
    ///   ``isRequired``, that the environment requires namespaces.
    public static func check() throws {
        guard let reason = unavailableReason else { return }
        let required = isRequired ? " (\(environmentVariable)=1 requires namespace tests to run)" : ""
        throw NamespaceError.unavailable(reason: reason + required)
    }

    private static let probe: String? = {
        guard geteuid() == 0 else {
            return "not running as root (euid \(geteuid()))"
        }
        guard SystemTool.ip.path != nil else {
            return "`ip` (iproute2) is not installed"
        }
        let name = NamespaceNames.make(role: "probe")
        do {
            try SystemTool.ip.run(["netns", "add", name])
        } catch {
            return "`ip netns add` failed: \(error)"
        }
        _ = try? SystemTool.ip.run(["netns", "delete", name])
        return nil
    }()
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only where network namespaces can be created, unless
    /// `STARLING_REQUIRE_NETNS=1` demands it; otherwise it is skipped with the reason.
    public static var requiresNetworkNamespaces: Self {
        .enabled(if: NetnsRequirement.shouldRun, Comment(rawValue: NetnsRequirement.skipMessage))
    }
}
