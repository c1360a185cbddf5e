import Foundation
public import Testing

/// Whether `tshark` is here for the Wireshark dissector's lab test, and what to do when
/// it is not.
///
/// ### Purpose
/// The dissector test (`Tools/Wireshark/starling.lua`) captures Starling traffic inside
/// a network namespace with `tshark` and decodes it again. On a machine without
/// Wireshark's command-line tools it skips, visibly, as namespace tests do without
/// root; with `STARLING_REQUIRE_NETNS=1` (CI) it runs anyway and fails, so a CI image
/// that lost `tshark` is noticed.
///
/// ### Usage
/// ```swift
/// @Test(.requiresNetworkNamespaces, .requiresTshark)
/// func capturedTrafficDecodes() async throws {
///     let tshark = try TsharkRequirement.path()
///     …
/// }
/// ```
public enum TsharkRequirement {
    /// The absolute path of `tshark`, or nil when it is not installed.
    public static let installedPath: String? = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin"]
        .map { "\($0)/tshark" }
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Whether a `tshark` test should run: it is installed, or the environment requires
    /// namespace tests (``NetnsRequirement/isRequired``), which then fail without it.
    public static var shouldRun: Bool { installedPath != nil || NetnsRequirement.isRequired }

    /// The message shown when a `tshark` test is skipped.
    public static var skipMessage: String {
        "tshark (Wireshark's command-line tools) is not installed; install it (apt-get install tshark) "
            + "or set \(NetnsRequirement.environmentVariable)=1 to make this a failure."
    }

    /// Why a `tshark` test cannot run.
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// The path of `tshark`.
    ///
    /// - Throws: ``Unavailable`` when it is not installed, saying when the environment
    ///   requires it.
    public static func path() throws -> String {
        if let installedPath { return installedPath }
        let required =
            NetnsRequirement.isRequired
            ? " (\(NetnsRequirement.environmentVariable)=1 requires the tshark test to run)" : ""
        throw Unavailable(description: "tshark is not installed" + required)
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only where `tshark` is installed, unless `STARLING_REQUIRE_NETNS=1`
    /// demands it; otherwise it is skipped with the reason.
    public static var requiresTshark: Self {
        .enabled(if: TsharkRequirement.shouldRun, Comment(rawValue: TsharkRequirement.skipMessage))
    }
}
