#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

#if STARLING_LIBFUZZER
    import CLibFuzzer

    // libFuzzer calls this for every input. The target is chosen once, from
    // STARLING_FUZZ_TARGET.
    private let selectedTarget: FuzzTarget = {
        let name = getenv("STARLING_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: " ")
            fatalError("set STARLING_FUZZ_TARGET to one of: \(names)")
        }
        return target
    }()

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        selectedTarget.run(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }

    // SwiftPM links an executable with `main` defined as `<module>_main`, which hides
    // libFuzzer's own `main`: this one hands over to libFuzzer's driver.
    @_cdecl("StarlingFuzz_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var argc = argc
        var argv = argv
        return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
    }
#else
    /// The fuzz targets without libFuzzer: list them, write the seed corpus, or replay
    /// inputs (a crash file, a corpus) through one target in an ordinary build.
    @main
    struct FuzzMain {
        static let usage = """
            usage: starling-fuzz list
                   starling-fuzz make-corpus <directory>     seeds, one folder per target
                   starling-fuzz replay <target> <file or directory>...
            """

        static func main() {
            let arguments = Array(CommandLine.arguments.dropFirst())
            switch arguments.first {
            case "list":
                for target in FuzzTarget.allCases { print(target.rawValue) }
            case "make-corpus" where arguments.count == 2:
                makeCorpus(in: arguments[1])
            case "replay" where arguments.count >= 3:
                guard let target = FuzzTarget(rawValue: arguments[1]) else { fail("unknown target \(arguments[1])") }
                replay(target, paths: Array(arguments.dropFirst(2)))
            default:
                fail(usage)
            }
        }

        static func makeCorpus(in directory: String) {
            mkdir(directory, 0o755)
            for (target, seeds) in SeedCorpus.make() {
                let folder = directory + "/" + target.rawValue
                mkdir(folder, 0o755)
                for seed in seeds { writeFile(seed, to: folder + "/seed-" + SeedCorpus.name(of: seed)) }
                print("\(target.rawValue): \(seeds.count) seeds")
            }
        }

        static func replay(_ target: FuzzTarget, paths: [String]) {
            var count = 0
            for path in paths.flatMap(files(at:)) {
                guard let bytes = readFile(path) else { fail("cannot read \(path)") }
                bytes.withUnsafeBytes { target.run($0) }
                count += 1
            }
            print("\(target.rawValue): \(count) inputs replayed, no crash")
        }

        /// `path` itself, or the regular files directly in it when it is a directory.
        static func files(at path: String) -> [String] {
            guard let directory = opendir(path) else { return [path] }
            defer { closedir(directory) }
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if !name.hasPrefix(".") { names.append(path + "/" + name) }
            }
            return names.sorted()
        }

        static func readFile(_ path: String) -> [UInt8]? {
            guard let file = fopen(path, "rb") else { return nil }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = fread(&chunk, 1, chunk.count, file)
                bytes += chunk[0..<count]
                if count < chunk.count { return bytes }
            }
        }

        static func writeFile(_ bytes: [UInt8], to path: String) {
            guard let file = fopen(path, "wb") else { fail("cannot write \(path)") }
            _ = fwrite(bytes, 1, bytes.count, file)
            fclose(file)
        }

        static func fail(_ message: String) -> Never {
            let line = message + "\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            exit(2)
        }
    }
#endif
