internal import CSodium

/// Secret key material that is wiped from memory when the last reference goes.
///
/// Immutable after creation, so it can be shared between threads.
final class SecretBytes: Sendable {
    /// The secret bytes. Read them; never copy them into long-lived storage.
    nonisolated(unsafe) private(set) var bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    deinit {
        bytes.withUnsafeMutableBytes { sodium_memzero($0.baseAddress!, $0.count) }
    }
}
