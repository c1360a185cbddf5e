import Glibc
public import StarlingCore

/// Reads and writes identity key files, with the permissions a secret needs.
///
/// ### Purpose
/// A key file holds a peer's Ed25519 seed (format: `KeyFileFormat`). It is created
/// with mode 0600 and never replaced unless asked; loading refuses a file that group
/// or others can read or write, a file that is not a regular file, and contents that
/// are truncated, too long or corrupt, each with its own ``KeyFileError``.
public enum KeyFile {
    /// Writes `keyPair` to a new file at `path`, mode 0600.
    ///
    /// - Parameters:
    ///   - keyPair: the identity to store.
    ///   - path: where to write it.
    ///   - overwrite: replace an existing file (atomically) instead of failing.
    /// - Throws: ``KeyFileError/alreadyExists(path:)`` or ``KeyFileError/io(path:operation:errno:)``.
    public static func save(_ keyPair: IdentityKeyPair, to path: String, overwrite: Bool = false) throws(KeyFileError) {
        let bytes = KeyFileFormat.encode(keyPair)
        // Write a private temporary file beside the target, then link or rename it into
        // place: readers never see a half-written key, and a crash leaves no partial file.
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: temporary, operation: "create", errno: errno) }
        var success = false
        defer {
            if !success { unlink(temporary) }
        }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let writeErrno = errno
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced else { throw .io(path: temporary, operation: "write", errno: writeErrno) }
        if overwrite {
            guard rename(temporary, path) == 0 else { throw .io(path: path, operation: "rename", errno: errno) }
        } else {
            // link(2) fails if the target exists, so an existing key is never clobbered.
            guard link(temporary, path) == 0 else {
                if errno == EEXIST { throw .alreadyExists(path: path) }
                throw .io(path: path, operation: "link", errno: errno)
            }
            unlink(temporary)
        }
        success = true
    }

    /// Creates a new identity with `generator` and writes it to `path`.
    /// - Returns: the new identity.
    /// - Throws: as ``save(_:to:overwrite:)``.
    public static func create(
        at path: String, overwrite: Bool = false, using generator: inout some RandomNumberGenerator
    ) throws(KeyFileError) -> IdentityKeyPair {
        let keyPair = IdentityKeyPair.generate(using: &generator)
        try save(keyPair, to: path, overwrite: overwrite)
        return keyPair
    }

    /// Loads the identity in the key file at `path`.
    /// - Throws: ``KeyFileError``.
    public static func load(from path: String) throws(KeyFileError) -> IdentityKeyPair {
        // Read one byte more than a key file holds, to tell "too long" from "exact".
        let bytes = try readPrivateFile(at: path, upTo: KeyFileFormat.size + 1)
        do {
            return try KeyFileFormat.decode(bytes)
        } catch {
            throw .invalidContents(path: path, reason: error)
        }
    }

    /// Reads up to `limit` bytes of the regular file at `path`, refusing a file that
    /// group or others may read or write (it holds a secret).
    /// - Throws: ``KeyFileError/notFound(path:)``, ``KeyFileError/notARegularFile(path:)``,
    ///   ``KeyFileError/insecurePermissions(path:mode:)`` or ``KeyFileError/io(path:operation:errno:)``.
    static func readPrivateFile(at path: String, upTo limit: Int) throws(KeyFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw .notFound(path: path) }
            throw .io(path: path, operation: "open", errno: errno)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(path: path, operation: "stat", errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile(path: path) }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else { throw .insecurePermissions(path: path, mode: UInt32(mode)) }
        var buffer = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while filled < buffer.count {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", errno: errno)
            }
            if count == 0 { break }
            filled += count
        }
        return Array(buffer[..<filled])
    }
}

/// Why a key file could not be read or written.
public enum KeyFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No file at the path.
    case notFound(path: String)
    /// A file already exists where a new key was to be written.
    case alreadyExists(path: String)
    /// The path is a directory, device or other non-regular file.
    case notARegularFile(path: String)
    /// Group or others may read or write the file.
    case insecurePermissions(path: String, mode: UInt32)
    /// The contents are not a valid key file.
    case invalidContents(path: String, reason: KeyFileFormat.DecodeError)
    /// A system call failed.
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .notFound(let path):
            "no key file at \(path)"
        case .alreadyExists(let path):
            "\(path) already exists; refusing to overwrite an identity (choose another path)"
        case .notARegularFile(let path):
            "\(path) is not a regular file"
        case .insecurePermissions(let path, let mode):
            "\(path) has mode \(String(mode, radix: 8)); a key file must not be readable by others "
                + "(run: chmod 600 \(path))"
        case .invalidContents(let path, let reason):
            "\(path) is not a valid Starling key file: \(reason.explanation)"
        case .io(let path, let operation, let code):
            "\(operation) \(path) failed: \(String(cString: strerror(code)))"
        }
    }
}

extension KeyFileFormat.DecodeError {
    /// A sentence for people.
    public var explanation: String {
        switch self {
        case .truncated(let size, let expected): "truncated (\(size) bytes, expected \(expected))"
        case .tooLong(let size, let expected): "too long (\(size)+ bytes, expected \(expected))"
        case .notAKeyFile: "it does not start with the STARLKEY magic"
        case .unsupportedVersion(let version): "unsupported file version \(version)"
        case .unsupportedKeyType(let type): "unsupported key type \(type)"
        case .corrupt: "corrupt (the public key does not match the seed)"
        }
    }
}
