internal import CSodium

/// The admission MACs every handshake initiation and response carries, checked before
/// any Diffie-Hellman work (as WireGuard's `mac1` and `mac2`, whitepaper 5.4.4).
///
/// ### Purpose
/// - `mac1` = keyed BLAKE2b-128 over the message up to it, keyed by ``mac1Key(kind:swarmID:secret:receiver:)``:
///   the swarm ID, the swarm secret in a private swarm, and for IK kinds the receiver's
///   peer ID. A peer drops a message whose `mac1` is wrong before decrypting anything,
///   so without the swarm secret nobody gets any answer from a private swarm, and in
///   an open swarm an IK initiation must be meant for this very peer.
/// - `mac2` (initiations only) = keyed BLAKE2b-128 over the message up to it (`mac1`
///   included), keyed by a cookie the responder handed out to the initiator's source
///   address (``CookieReply``); all zero without a cookie. A valid `mac2` proves the
///   initiator receives at its source address.
///
/// All MACs are compared in constant time.
enum HandshakeMAC {
    /// Size of `mac1`, `mac2` and a cookie.
    static let size = 16
    /// Size of a derived key.
    static let keySize = 32

    /// Label of ``mac1Key(kind:swarmID:secret:receiver:)``.
    static let mac1Label = Array("starling/mac1".utf8)
    /// Label of ``cookieKey(kind:swarmID:secret:receiver:)``.
    static let cookieLabel = Array("starling/cookie".utf8)

    /// The key of `mac1` on a message of `kind` sent to `receiver`:
    /// `BLAKE2b-256(label ‖ 0x00 ‖ swarm ID ‖ [secret] ‖ [receiver peer ID])`.
    ///
    /// The receiver's ID is mixed in for IK kinds only: in XX the initiator does not
    /// know it.
    static func mac1Key(kind: HandshakeKind, swarmID: [UInt8], secret: [UInt8]?, receiver: PeerID?) -> [UInt8] {
        derive(label: mac1Label, kind: kind, swarmID: swarmID, secret: secret, receiver: receiver)
    }

    /// The key that encrypts a cookie reply of a responder, built as
    /// ``mac1Key(kind:swarmID:secret:receiver:)`` with the label `starling/cookie` and
    /// the responder as receiver.
    static func cookieKey(kind: HandshakeKind, swarmID: [UInt8], secret: [UInt8]?, receiver: PeerID?) -> [UInt8] {
        derive(label: cookieLabel, kind: kind, swarmID: swarmID, secret: secret, receiver: receiver)
    }

    private static func derive(
        label: [UInt8], kind: HandshakeKind, swarmID: [UInt8], secret: [UInt8]?, receiver: PeerID?
    ) -> [UInt8] {
        var input = label + [0]
        input += swarmID
        if let secret { input += secret }
        if kind.messageCount == 2, let receiver { input += receiver.bytes }
        return hash(input, size: keySize)
    }

    /// Unkeyed BLAKE2b with a `size`-byte digest.
    static func hash(_ input: [UInt8], size: Int) -> [UInt8] {
        Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: size)
        input.withUnsafeBufferPointer { message in
            _ = crypto_generichash(&out, size, message.baseAddress, UInt64(message.count), nil, 0)
        }
        return out
    }

    /// Keyed BLAKE2b-128 of `message` (the whole buffer) under `key` (16 to 64 bytes).
    static func mac(_ message: UnsafeRawBufferPointer, key: [UInt8]) -> [UInt8] {
        Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: size)
        key.withUnsafeBufferPointer { key in
            _ = crypto_generichash(
                &out, size, message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                key.baseAddress, key.count)
        }
        return out
    }

    /// Whether the `size` bytes at `offset` of `datagram` are the MAC of the bytes before
    /// them under `key` (constant-time comparison).
    static func verify(_ datagram: UnsafeRawBufferPointer, macAt offset: Int, key: [UInt8]) -> Bool {
        guard offset >= 0, offset + size <= datagram.count else { return false }
        let expected = mac(UnsafeRawBufferPointer(rebasing: datagram[..<offset]), key: key)
        return expected.withUnsafeBytes { expected in
            sodium_memcmp(expected.baseAddress!, datagram.baseAddress! + offset, size) == 0
        }
    }

    /// Writes the MAC of the bytes before `offset` under `key` at `offset` of `datagram`.
    static func stamp(_ datagram: inout [UInt8], macAt offset: Int, key: [UInt8]) {
        let value = datagram.withUnsafeBytes { mac(UnsafeRawBufferPointer(rebasing: $0[..<offset]), key: key) }
        datagram.replaceSubrange(offset..<offset + size, with: value)
    }

    /// A cookie: keyed BLAKE2b-128 of the source address (family, address bytes, port)
    /// under the responder's current cookie secret.
    static func cookie(for source: PeerAddress, secret: [UInt8]) -> [UInt8] {
        var bytes = addressBytes(source)
        defer { bytes.removeAll() }
        return bytes.withUnsafeBytes { mac($0, key: secret) }
    }

    /// The bytes a cookie binds: `0x04` and 4 address bytes, or `0x06` and 16, then the
    /// port (big-endian), as an address in a peer record.
    static func addressBytes(_ address: PeerAddress) -> [UInt8] {
        var bytes: [UInt8]
        switch address.host {
        case .ipv4: bytes = [0x04]
        case .ipv6: bytes = [0x06]
        }
        bytes += address.hostBytes
        bytes += [UInt8(address.port >> 8), UInt8(address.port & 0xFF)]
        return bytes
    }
}
