import Foundation

/// Locates the `starling` executable that `swift build` put beside the test bundle.
///
/// `make test` builds every product before it runs the tests, so the binary sits in
/// the same build folder as the test runner. Tests that drive the command-line
/// program (or run it inside network namespaces) start it from there.
public enum StarlingBinary {
    /// Why the binary could not be used.
    public struct NotFound: Error, CustomStringConvertible {
        /// The path that was looked at.
        public let path: String
        public var description: String {
            "the starling executable is not at \(path); run `swift build` (or `make test`) first"
        }
    }

    /// The absolute path of the built `starling` executable.
    /// - Throws: ``NotFound`` when it has not been built.
    public static func path() throws -> String {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        // On Linux the runner is `<build>/debug/StarlingPackageTests.xctest`; on
        // Darwin it is inside the bundle's `Contents/MacOS`.
        while directory.pathComponents.count > 1 {
            let candidate = directory.appendingPathComponent("starling").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            if directory.lastPathComponent == "debug" || directory.lastPathComponent == "release" { break }
            directory = directory.deletingLastPathComponent()
        }
        throw NotFound(path: directory.appendingPathComponent("starling").path)
    }
}
