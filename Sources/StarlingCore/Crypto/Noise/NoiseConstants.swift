/// Sizes and names of the Noise Protocol Framework (revision 34) as Starling uses it:
/// `25519`, `ChaChaPoly` and `BLAKE2b`.
///
/// See <https://noiseprotocol.org/noise.html>; section numbers below refer to it.
public enum NoiseConstants {
    // MARK: Specification (changing any of these breaks interoperability)

    /// `DHLEN`: bytes in an X25519 public key and in a DH output (section 12.1).
    public static let dhLength = 32
    /// `HASHLEN`: bytes in a BLAKE2b-512 digest (section 12.8).
    public static let hashLength = 64
    /// `BLOCKLEN`: bytes in a BLAKE2b input block, used by HMAC (section 12.8).
    public static let blockLength = 128
    /// Bytes in a cipher key `k` (section 5.1).
    public static let keyLength = 32
    /// Bytes in a pre-shared key (section 9.1).
    public static let presharedKeyLength = 32
    /// Bytes in a ChaChaPoly authentication tag (section 5.1).
    public static let tagLength = 16
    /// Largest Noise message, handshake or transport, in bytes (section 3).
    public static let maximumMessageLength = 65535
    /// Largest payload of a transport message: the message limit minus the tag.
    public static let maximumPayloadLength = maximumMessageLength - tagLength
    /// The nonce value reserved for `REKEY`; `EncryptWithAd` refuses to use it (section 5.1).
    public static let reservedNonce = UInt64.max
    /// Bytes in the ChaChaPoly nonce: four zero bytes then the 64-bit counter,
    /// little-endian (section 12.3).
    public static let aeadNonceLength = 12

    /// First component of every protocol name.
    public static let protocolPrefix = "Noise"
    /// Separator between protocol name components (section 8).
    public static let nameSeparator: Character = "_"
    /// Separator between pattern modifiers, as in `NNpsk0+psk2` (section 8).
    public static let modifierSeparator: Character = "+"
    /// The name of the one DH function Starling implements.
    public static let dhName = "25519"
    /// The name of the one cipher Starling implements.
    public static let cipherName = "ChaChaPoly"
    /// The name of the one hash Starling implements.
    public static let hashName = "BLAKE2b"
    /// Prefix of a pre-shared-key modifier (section 9.2).
    public static let pskModifierPrefix = "psk"
}
