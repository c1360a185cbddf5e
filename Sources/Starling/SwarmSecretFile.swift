/// Reads a private swarm's shared secret from a file.
///
/// The file holds the 32-byte secret as 64 hexadecimal digits (surrounding whitespace,
/// such as a final newline, is ignored). Like a key file it must be readable by its
/// owner only. Make one with, for instance, `head -c 32 /dev/urandom | xxd -p -c 64`.
public enum SwarmSecretFile {
    /// Loads the secret in the file at `path`.
    /// - Throws: ``SwarmSecretFileError``.
    public static func load(from path: String) throws(SwarmSecretFileError) -> [UInt8] {
        let bytes: [UInt8]
        do {
            // Room for the digits and generous whitespace; more is not a secret file.
            bytes = try KeyFile.readPrivateFile(at: path, upTo: 257)
        } catch {
            throw .file(error)
        }
        guard bytes.count <= 256 else { throw .invalidContents(path: path, reason: "longer than 256 bytes") }
        let text = bytes.filter { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        guard text.count == 64 else {
            throw .invalidContents(path: path, reason: "expected 64 hexadecimal digits, found \(text.count) characters")
        }
        var secret: [UInt8] = []
        secret.reserveCapacity(32)
        var index = 0
        while index < 64 {
            guard let high = hexValue(text[index]), let low = hexValue(text[index + 1]) else {
                throw .invalidContents(path: path, reason: "not hexadecimal at character \(index + 1)")
            }
            secret.append(high << 4 | low)
            index += 2
        }
        return secret
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Why a swarm secret file could not be read.
public enum SwarmSecretFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be read, or anyone but its owner may read it.
    case file(KeyFileError)
    /// The file does not hold 64 hexadecimal digits.
    case invalidContents(path: String, reason: String)

    public var description: String {
        switch self {
        case .file(.notFound(let path)): "no swarm secret file at \(path)"
        case .file(.insecurePermissions(let path, let mode)):
            "\(path) has mode \(String(mode, radix: 8)); a swarm secret file must not be readable by others "
                + "(chmod 600 \(path))"
        case .file(let error): error.description
        case .invalidContents(let path, let reason): "\(path) is not a swarm secret file: \(reason)"
        }
    }
}
