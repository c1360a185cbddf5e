import ArgumentParser
import Foundation
import Starling
import StarlingCore
import StarlingIO

/// `starling record`: sign and verify peer records.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Sign and verify peer records (the signed statement of where a peer is and what it offers).",
        subcommands: [Sign.self, Verify.self]
    )

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a peer record with an identity and write it as a datagram file.")

        @Option(help: "The identity key file that signs (and that the record describes).")
        var key: String

        @Option(name: .customLong("address"), help: "An address to list: 127.0.0.1:4000 or [::1]:4000 (repeatable).")
        var addresses: [String] = []

        @Option(name: .customLong("service"), help: "A service name to list, [a-z0-9._-]{1,32} (repeatable).")
        var services: [String] = []

        @Option(help: "Sequence number (default: the current Unix time, so newer records win).")
        var sequence: UInt64?

        @Option(help: "Seconds until the record expires (1 to 2592000).")
        var ttl: UInt64 = 3600

        @Option(name: .shortAndLong, help: "Where to write the signed record.")
        var out: String

        @Flag(help: "Print one JSON object: id, sequence, expires, addresses, services, file.")
        var json = false

        func validate() throws {
            guard (1...2_592_000).contains(ttl) else {
                throw ValidationError("--ttl must be from 1 to 2592000 seconds (30 days), not \(ttl)")
            }
            guard addresses.count <= RecordConstants.maximumAddresses else {
                throw ValidationError("at most \(RecordConstants.maximumAddresses) --address options")
            }
            guard services.count <= RecordConstants.maximumServices else {
                throw ValidationError("at most \(RecordConstants.maximumServices) --service options")
            }
            for service in services where !PeerRecord.isValidServiceName(service) {
                throw ValidationError("invalid service name \"\(service)\": use 1 to 32 of a-z 0-9 . _ -")
            }
            for address in addresses {
                do {
                    _ = try PeerAddress(address)
                } catch {
                    throw ValidationError("invalid --address \"\(address)\": \(error)")
                }
            }
        }

        func run() throws {
            let keyPair = try loadKey(key)
            let now = SystemClock.wallNow()
            let record = PeerRecord(
                peerID: keyPair.peerID,
                sequence: sequence ?? now.seconds,
                expiresAt: now + .seconds(ttl),
                addresses: try addresses.map { try PeerAddress($0) },
                services: services
            )
            let signed = try record.sign(with: keyPair)
            do {
                try Data(signed.datagram).write(to: URL(fileURLWithPath: out), options: .withoutOverwriting)
            } catch {
                throw CLIError("cannot write \(out): \(error.localizedDescription)")
            }
            if json {
                JSONText.print(RecordCommand.Summary(record, file: out))
            } else {
                print("signed record for \(record.peerID.shortDescription) (sequence \(record.sequence)) -> \(out)")
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a signed record file and print its contents.",
            discussion: "Exits with status 1 and the reason when the record is malformed, forged or expired.")

        @Argument(help: "The signed record file.")
        var file: String

        @Option(help: "The peer ID the record must belong to.")
        var peer: String?

        @Flag(help: "Print one JSON object: id, sequence, expires, addresses, services, file.")
        var json = false

        func validate() throws {
            if let peer {
                do {
                    _ = try PeerID(peer)
                } catch {
                    throw ValidationError("invalid --peer \"\(peer)\": \(error)")
                }
            }
        }

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIError("cannot read \(file)")
            }
            guard data.count <= DatagramHeader.size + RecordConstants.maximumSignedSize else {
                throw CLIError("\(file) is \(data.count) bytes, larger than any signed record")
            }
            let expected = try peer.map { try PeerID($0) }
            let record: PeerRecord
            do {
                record = try SignedPeerRecord.decodeDatagram(Array(data)).verify(
                    now: SystemClock.wallNow(), expecting: expected)
            } catch {
                throw CLIError("invalid record: \(error)")
            }
            if json {
                JSONText.print(RecordCommand.Summary(record, file: file))
                return
            }
            print("valid record")
            print("peer id     \(record.peerID)")
            print("sequence    \(record.sequence)")
            print("expires     \(record.expiresAt) (Unix seconds)")
            for address in record.addresses { print("address     \(address)") }
            for service in record.services { print("service     \(service)") }
        }
    }

    /// The `--json` object of `sign` and `verify`: the record, and the file it is in.
    struct Summary: Encodable {
        /// The peer the record describes.
        let id: String
        let sequence: UInt64
        /// Unix seconds.
        let expires: UInt64
        let addresses: [String]
        let services: [String]
        /// The signed record file.
        let file: String

        init(_ record: PeerRecord, file: String) {
            id = record.peerID.description
            sequence = record.sequence
            expires = record.expiresAt.seconds
            addresses = record.addresses.map(\.description)
            services = record.services
            self.file = file
        }
    }
}
