import Foundation

/// The JSON every `--json` output of `starling` prints: one object, keys sorted,
/// slashes unescaped.
enum JSONText {
    /// `value` as JSON text, or nil when it cannot be encoded.
    static func encode(_ value: some Encodable) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
    }
}
