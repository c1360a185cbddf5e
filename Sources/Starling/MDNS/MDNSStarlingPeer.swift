public import StarlingCore

/// A Starling peer as DNS-SD advertises it: `_starling._udp.local`, with TXT `id=`,
/// `swarm=` and `v=`.
///
/// ### Records
/// The SRV record carries the peer's UDP port and the host's name, whose A/AAAA records
/// are the interface's addresses; the TXT record carries `id=<peer ID>` (52 base32
/// characters), `swarm=<swarm ID as 64 hex digits>` and `v=1`. A browser joins only
/// peers whose swarm ID matches its own.
public struct MDNSStarlingPeer: Hashable, Sendable {
    /// The DNS-SD service type of Starling peers.
    public static let serviceType = "_starling._udp"
    /// The TXT `v=` value this version writes and reads.
    public static let version = "1"

    /// The peer's ID.
    public var peerID: PeerID
    /// The peer's swarm ID (32 bytes).
    public var swarmID: [UInt8]
    /// Where the peer can be reached: every resolved address with the SRV port.
    public var addresses: [PeerAddress]

    /// Creates a value.
    ///
    /// - Parameters:
    ///   - peerID: the peer's ID.
    ///   - swarmID: its swarm ID.
    ///   - addresses: where it listens.
    public init(peerID: PeerID, swarmID: [UInt8], addresses: [PeerAddress]) {
        self.peerID = peerID
        self.swarmID = swarmID
        self.addresses = addresses
    }

    /// Reads a resolved `_starling._udp` instance; `nil` when its TXT lacks a valid `id`,
    /// `swarm` or a `v=1`, or it is of another type.
    ///
    /// - Parameter service: a resolved instance.
    public init?(_ service: MDNSResolvedService) {
        guard service.type.labels.count >= 2,
            service.type.labels[0...1].map({ String(decoding: $0, as: UTF8.self).lowercased() }) == [
                "_starling", "_udp",
            ]
        else { return nil }
        let values = service.txtValues
        guard case .some(.some(let version)) = values["v"], String(decoding: version, as: UTF8.self) == Self.version,
            case .some(.some(let id)) = values["id"], let peerID = try? PeerID(String(decoding: id, as: UTF8.self)),
            case .some(.some(let swarm)) = values["swarm"], let swarmID = Self.bytes(hex: swarm), swarmID.count == 32
        else { return nil }
        self.init(
            peerID: peerID, swarmID: swarmID,
            addresses: service.addresses.map { PeerAddress(host: $0, port: service.port) })
    }

    /// The service to advertise for a peer listening on `port`.
    ///
    /// - Parameters:
    ///   - instance: the instance name (1 to 63 bytes), for example `Starling abcd1234`.
    ///   - peerID: the peer's ID.
    ///   - swarmID: its swarm ID.
    ///   - port: its UDP port.
    /// - Returns: a `_starling._udp` service with TXT `id`, `swarm` and `v`.
    public static func service(instance: String, peerID: PeerID, swarmID: [UInt8], port: UInt16) -> MDNSService {
        MDNSService(
            instance: instance, type: serviceType, port: port,
            txt: MDNSService.txt([("id", peerID.description), ("swarm", hex(swarmID)), ("v", version)]))
    }

    /// The default instance name of a peer: `Starling <first 8 characters of its ID>`.
    public static func defaultInstance(for peerID: PeerID) -> String {
        "Starling \(peerID.shortDescription)"
    }

    /// Lowercase hex digits of `bytes`.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The bytes of an even number of hex digits (either case); `nil` otherwise.
    static func bytes(hex: [UInt8]) -> [UInt8]? {
        guard hex.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var result: [UInt8] = []
        result.reserveCapacity(hex.count / 2)
        var index = 0
        while index < hex.count {
            guard let high = value(hex[index]), let low = value(hex[index + 1]) else { return nil }
            result.append(high << 4 | low)
            index += 2
        }
        return result
    }
}
