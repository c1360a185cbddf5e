import Foundation

/// The JSON every `--json` output of `starling` prints: one object, keys sorted,
/// slashes unescaped.
enum JSONText {
    /// `value` as JSON text, or `{}` when it cannot be encoded.
    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// `object` (of JSON types: strings, numbers, booleans, arrays, dictionaries and
    /// `NSNull`) as JSON text, or `{}` when it cannot be encoded.
    static func encode(object: [String: Any]) -> String {
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: options) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Prints `value` as one line of JSON and writes it out at once, so that a reader of
    /// the pipe sees each event when it happens.
    static func print(_ value: some Encodable) {
        Swift.print(encode(value))
        flushOutput()
    }

    /// Prints `object` as one line of JSON and writes it out at once.
    static func print(object: [String: Any]) {
        Swift.print(encode(object: object))
        flushOutput()
    }

    /// Prints `object` as one line of JSON when `json`, else `text`, and writes it out
    /// at once: the two forms of one line of a command's output.
    static func emit(json: Bool, text: String, _ object: [String: Any]) {
        guard !json else { return print(object: object) }
        Swift.print(text)
        flushOutput()
    }

    /// Prints `value` as one line of JSON when `json`, else `text`, and writes it out at once.
    static func emit(json: Bool, text: String, _ value: some Encodable) {
        guard !json else { return print(value) }
        Swift.print(text)
        flushOutput()
    }
}
