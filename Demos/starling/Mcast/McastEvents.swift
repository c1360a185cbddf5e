/// The JSON lines `starling mcast` prints with `--json`, besides ``McastReport``. Each
/// carries an `event` naming it.

/// `listen`: the membership is in place.
struct JoinedEvent: Encodable {
    let event = "joined"
    /// The group and port.
    let group: String
    /// The interface joined on.
    let interface: String
    /// The source of a source-specific join.
    let source: String?
}

/// `listen --raw`: one datagram.
struct DatagramEvent: Encodable {
    let event = "datagram"
    /// Its sender's address.
    let from: String
    /// Its size.
    let bytes: Int
    /// Its payload as one line of text.
    let text: String
}

/// `listen`: one lab message.
struct MessageEvent: Encodable {
    let event = "message"
    /// Its sender's address.
    let from: String
    /// The sending run's id.
    let sender: String
    /// Its position in the run.
    let sequence: UInt64
    /// Its text.
    let text: String
}

/// `listen`: every probe of a run has arrived.
struct CompleteEvent: Encodable {
    let event = "complete"
    /// The probe run's id.
    let sender: String
    /// Distinct probes received (the run length).
    let received: UInt64
    /// Repeats seen so far.
    let duplicates: UInt64
}

/// `send`: what was sent.
struct SentEvent: Encodable {
    let event = "sent"
    /// The group and port.
    let group: String
    /// The interface sent from.
    let interface: String
    /// The run's id (absent with `--raw`, which sends bare payloads).
    let sender: String?
    /// Datagrams sent.
    let datagrams: Int
    /// Payload bytes sent.
    let bytes: Int
}

/// `probe`: the run is over.
struct ProbeEvent: Encodable {
    let event = "probe"
    /// The group and port.
    let group: String
    /// The interface sent from.
    let interface: String
    /// The run's id.
    let sender: String
    /// Probes sent.
    let sent: UInt64
    /// Probes the run meant to send (fewer were sent when it was stopped).
    let count: UInt64
    /// Each probe's size in bytes.
    let size: Int
    /// The rate asked for, probes per second.
    let rate: Double
    /// The rate achieved.
    let achievedRate: Double
    /// Seconds from the first send to the last.
    let seconds: Double
    /// Whether SIGINT or SIGTERM cut the run short.
    let interrupted: Bool
}
