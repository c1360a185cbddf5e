/// The spreading core's timers. ``SpreadingCore/pollTimeout()`` reports the earliest.
enum SpreadingTimer: CaseIterable, Sendable {
    /// When the oldest outstanding echo request times out.
    case echoTimeout
    /// When the oldest seen-cache or reverse-path entry expires and is freed.
    case expiry
}
