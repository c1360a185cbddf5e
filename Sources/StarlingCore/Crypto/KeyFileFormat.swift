/// The bytes of an identity key file (`docs/PROTOCOL.md`, "Identity key file").
///
/// ```
/// offset size
///  0     8   magic "STARLKEY"
///  8     1   file format version (1)
///  9     1   key type (1 = Ed25519 seed)
/// 10    32   seed
/// 42    32   Ed25519 public key (a check: it must match the seed)
/// ```
/// Reading and writing the file itself (permissions, atomic replace) is the
/// `Starling` module's `KeyFile`; this type only turns bytes into keys and back.
public enum KeyFileFormat {
    /// Why a key file's contents were refused.
    public enum DecodeError: Error, Equatable, Sendable {
        /// Fewer bytes than a key file holds.
        case truncated(size: Int, expected: Int)
        /// More bytes than a key file holds.
        case tooLong(size: Int, expected: Int)
        /// The file does not start with the magic bytes: not a Starling key file.
        case notAKeyFile
        /// A file format version this build does not read.
        case unsupportedVersion(UInt8)
        /// A key type this build does not know.
        case unsupportedKeyType(UInt8)
        /// The stored public key does not match the seed: the file is corrupt.
        case corrupt
    }

    // MARK: Specification

    /// The first eight bytes of every key file.
    public static let magic: [UInt8] = Array("STARLKEY".utf8)
    /// The file format version written by this build.
    public static let version: UInt8 = 1
    /// Key type byte for an Ed25519 seed.
    public static let keyTypeEd25519Seed: UInt8 = 1
    /// Exact size of a key file.
    public static let size = magic.count + 1 + 1 + IdentityKeyPair.seedSize + Key32.size

    /// The file's bytes for `keyPair`.
    public static func encode(_ keyPair: IdentityKeyPair) -> [UInt8] {
        var writer = ByteWriter(capacity: size)
        writer.write(bytes: magic)
        writer.write(version)
        writer.write(keyTypeEd25519Seed)
        writer.write(bytes: keyPair.seed)
        writer.write(bytes: keyPair.peerID.bytes)
        return writer.bytes
    }

    /// The key pair in a key file's bytes.
    /// - Throws: ``DecodeError``.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> IdentityKeyPair {
        guard bytes.count >= magic.count, Array(bytes.prefix(magic.count)) == magic else {
            if bytes.count < magic.count, magic.starts(with: bytes) {
                throw .truncated(size: bytes.count, expected: size)
            }
            throw .notAKeyFile
        }
        guard bytes.count >= size else { throw .truncated(size: bytes.count, expected: size) }
        guard bytes.count == size else { throw .tooLong(size: bytes.count, expected: size) }
        var reader = ByteReader(bytes[magic.count...])
        do {
            let fileVersion = try reader.readUInt8()
            guard fileVersion == version else { throw DecodeError.unsupportedVersion(fileVersion) }
            let keyType = try reader.readUInt8()
            guard keyType == keyTypeEd25519Seed else { throw DecodeError.unsupportedKeyType(keyType) }
            let keyPair = try IdentityKeyPair(seed: try reader.readBytes(IdentityKeyPair.seedSize))
            guard Key32(try reader.readBytes(Key32.size)) == keyPair.peerID.publicKey else { throw DecodeError.corrupt }
            return keyPair
        } catch let error as DecodeError {
            throw error
        } catch {
            // Sizes were checked above, so no read or seed can fail here.
            throw .corrupt
        }
    }
}
