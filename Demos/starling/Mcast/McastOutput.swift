import Foundation

/// How `starling mcast` writes to the terminal: text lines, or one JSON object per line.
enum McastOutput {
    /// Writes `value` as one line of JSON (keys sorted) to standard output at once.
    static func emitJSON(_ value: some Encodable) {
        UDPCommand.emit(JSONText.encode(value))
    }

    /// A sender id as 16 hex digits, as every output shows it.
    static func senderText(_ id: UInt64) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Nanoseconds as milliseconds with three decimals, such as `0.142`.
    static func milliseconds(_ nanoseconds: Double) -> String {
        String(format: "%.3f", nanoseconds / 1_000_000)
    }

    /// A fresh random sender id for one run of `send` or `probe`.
    static func newSenderID() -> UInt64 {
        UInt64.random(in: 1...UInt64.max)
    }
}
