import Foundation
import Testing

@testable import StarlingCore

/// Checks that every hex example in docs/PROTOCOL.md decodes and re-encodes byte for
/// byte, so the document and the code cannot drift apart.
@Suite struct ProtocolDocTests {
    static let documentPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/PROTOCOL.md").path

    /// The examples the document must contain.
    static let requiredExamples: Set<String> = [
        "datagram-header", "peer-record-datagram", "key-file", "handshake-initiation", "transport-header",
        "rpc-request", "rpc-response", "stream-opening", "stream-message-start", "beacon-open",
        "membership-ping", "membership-ack", "routing-ping", "routing-find-node", "routing-prove",
        "routing-proof", "stream-request", "spreading-gossip", "spreading-query", "overlay-open",
        "ik-initiation-payload", "handshake-mac1-keys", "cookie-reply", "overlay-address-check",
        "index-placement", "index-register", "index-indexes", "super-peer-advert", "super-peer-keepalive",
        "super-peer-handover-offer",
        "index-handoff", "super-peer-lookup", "super-peer-lookup-reply", "super-peer-relay",
        "group-id", "group-key", "group-report", "group-members", "group-data", "group-ihave",
        "name-chain", "routing-find-name",
    ]

    /// The test identity of the examples: seed 00 01 … 1f.
    static let exampleKey = try! IdentityKeyPair(seed: [UInt8](0..<32))

    static let exampleRecord = PeerRecord(
        peerID: exampleKey.peerID, sequence: 7, expiresAt: UnixTime(seconds: 1_800_003_600),
        addresses: [.ipv4(127, 0, 0, 1, port: 4000), try! PeerAddress("[::1]:4001")],
        services: ["echo", "chat"]
    )

    /// The second and third test identities of the membership and routing examples:
    /// seeds 20 21 … 3f and 40 41 … 5f.
    static let secondKey = try! IdentityKeyPair(seed: [UInt8](0x20..<0x40))
    static let thirdKey = try! IdentityKeyPair(seed: [UInt8](0x40..<0x60))

    /// `hex example=NAME` blocks of the document, by name (`#` starts a comment).
    static func examples() throws -> [String: [UInt8]] {
        let text = try String(contentsOfFile: documentPath, encoding: .utf8)
        var examples: [String: [UInt8]] = [:]
        var current: (name: String, hex: String)?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let block = current {
                if line.hasPrefix("```") {
                    examples[block.name] = parseHex(block.hex) ?? []
                    current = nil
                } else {
                    // Everything after `#` on a line is a comment.
                    current = (block.name, block.hex + (line.split(separator: "#", maxSplits: 1).first ?? ""))
                }
            } else if line.hasPrefix("```hex example=") {
                current = (String(line.dropFirst("```hex example=".count)), "")
            }
        }
        return examples
    }

    @Test func document_containsEveryExample() throws {
        #expect(Set(try Self.examples().keys) == Self.requiredExamples)
    }

    @Test func datagramHeader_example_roundTrips() throws {
        let bytes = try #require(try Self.examples()["datagram-header"])
        var reader = ByteReader(bytes)
        let header = try DatagramHeader.decode(from: &reader)
        #expect(header.type == .peerRecord)
        var writer = ByteWriter()
        header.encode(into: &writer)
        #expect(writer.bytes == bytes)
    }

    @Test func peerRecord_example_decodesVerifiesAndReencodes() throws {
        let bytes = try #require(try Self.examples()["peer-record-datagram"])
        let expected = try Self.exampleRecord.sign(with: Self.exampleKey).datagram
        #expect(bytes == expected, "expected:\n\(formatted(expected))")
        let signed = try SignedPeerRecord.decodeDatagram(bytes)
        let record = try signed.verify(now: UnixTime(seconds: 1_800_000_000), expecting: Self.exampleKey.peerID)
        #expect(record == Self.exampleRecord)
        #expect(signed.datagram == bytes)
    }

    @Test func keyFile_example_decodesAndReencodes() throws {
        let bytes = try #require(try Self.examples()["key-file"])
        let expected = KeyFileFormat.encode(Self.exampleKey)
        #expect(bytes == expected, "expected:\n\(formatted(expected))")
        let keyPair = try KeyFileFormat.decode(bytes)
        #expect(keyPair.peerID == Self.exampleKey.peerID)
        #expect(KeyFileFormat.encode(keyPair) == bytes)
    }

    @Test func handshakeInitiation_example_roundTrips() throws {
        let bytes = try #require(try Self.examples()["handshake-initiation"])
        var reader = ByteReader(bytes)
        #expect(try DatagramHeader.decode(from: &reader).type == .handshakeInitiation)
        let initiation = try HandshakeInitiation.decode(body: &reader)
        #expect(initiation.kind == .xx)
        #expect(initiation.senderIndex == 0x0A0B_0C0D)
        #expect(initiation.noiseMessage == Array(0xE0...0xFF))
        #expect(initiation.mac2 == [UInt8](repeating: 0, count: 16))
        #expect(initiation.encoded() == bytes)
        // mac1 as a peer of the public swarm computes and checks it.
        var stamped = HandshakeInitiation(kind: .xx, senderIndex: 0x0A0B_0C0D, noiseMessage: Array(0xE0...0xFF))
            .encoded()
        let key = HandshakeMAC.mac1Key(kind: .xx, swarmID: Self.publicSwarm, secret: nil, receiver: nil)
        HandshakeMAC.stamp(&stamped, macAt: HandshakeInitiation.mac1Offset(count: stamped.count), key: key)
        #expect(stamped == bytes, "expected:\n\(formatted(stamped))")
        let keys = AdmissionKeys(identity: Self.exampleKey.peerID, configuration: .lan)
        #expect(bytes.withUnsafeBytes { HandshakeMAC.verify($0, macAt: bytes.count - 32, key: keys.mac1(for: .xx)) })
    }

    /// The public swarm's ID: 32 zero bytes.
    static let publicSwarm = [UInt8](repeating: 0, count: 32)

    @Test func handshakeMAC1Keys_example_isTheDerivation() throws {
        let bytes = try #require(try Self.examples()["handshake-mac1-keys"])
        let xx = HandshakeMAC.mac1Key(kind: .xx, swarmID: Self.publicSwarm, secret: nil, receiver: nil)
        let ik = HandshakeMAC.mac1Key(
            kind: .ik, swarmID: Self.publicSwarm, secret: nil, receiver: Self.exampleKey.peerID)
        #expect(bytes == xx + ik, "expected:\n\(formatted(xx + ik))")
        // The receiver's ID counts for IK kinds only.
        #expect(
            HandshakeMAC.mac1Key(kind: .xx, swarmID: Self.publicSwarm, secret: nil, receiver: Self.exampleKey.peerID)
                == xx)
    }

    @Test func cookieReply_example_opensToTheCookie_andItsMAC2() throws {
        let bytes = try #require(try Self.examples()["cookie-reply"])
        let initiation = try #require(try Self.examples()["handshake-initiation"])
        let mac1 = Array(initiation[(initiation.count - 32)..<(initiation.count - 16)])
        let source = PeerAddress.ipv4(127, 0, 0, 1, port: 4000)
        let cookie = HandshakeMAC.cookie(for: source, secret: [UInt8](repeating: 0x11, count: 32))
        #expect(cookie == hex("faa08081a047f4ea50709434a75f41a5"))
        let key = HandshakeMAC.cookieKey(kind: .xx, swarmID: Self.publicSwarm, secret: nil, receiver: nil)
        #expect(key == hex("f7efb5a9c54126b4efdeceafee46b955a359073323967" + "1db744a4822a48ed69c"))
        let sealed = CookieReply.seal(
            cookie: cookie, receiverIndex: 0x0A0B_0C0D, key: key, mac1: mac1, nonce: Array(0..<24))
        #expect(sealed.encoded() == bytes, "expected:\n\(formatted(sealed.encoded()))")
        var reader = ByteReader(bytes)
        #expect(try DatagramHeader.decode(from: &reader).type == .cookieReply)
        let reply = try CookieReply.decode(body: &reader)
        #expect(reply == sealed && reply.open(key: key, mac1: mac1) == cookie)
        #expect(reply.open(key: key, mac1: [UInt8](repeating: 0, count: 16)) == nil)
        var withMAC2 = initiation
        HandshakeMAC.stamp(&withMAC2, macAt: initiation.count - 16, key: cookie)
        #expect(Array(withMAC2.suffix(16)) == hex("e716191a34744ce74d73dcb2b4fc91b9"))
    }

    @Test func ikInitiationPayload_example_isIdentityThenTimestamp() throws {
        let bytes = try #require(try Self.examples()["ik-initiation-payload"])
        let timestamp = HandshakeTimestamp(seconds: 1_800_000_000, nanoseconds: 5)
        #expect(bytes == HandshakePayload(peerID: Self.exampleKey.peerID).encoded + timestamp.encoded)
        #expect(HandshakePayload.claimedPeer(in: bytes) == Self.exampleKey.peerID)
        #expect(HandshakeTimestamp(bytes[HandshakePayload.size...]) == timestamp)
        // The prologue every session handshake is bound to.
        #expect(SessionConfiguration.lan.prologue == Array("starling".utf8) + [1] + Self.publicSwarm)
    }

    @Test func transportHeader_example_roundTrips() throws {
        let bytes = try #require(try Self.examples()["transport-header"])
        let padded = bytes + [UInt8](repeating: 0, count: TransportHeader.tagSize)
        let header = try #require(padded.withUnsafeBytes { TransportHeader.parse($0) })
        #expect(header == TransportHeader(receiverIndex: 42, counter: 256))
        var encoded: [UInt8] = []
        header.append(to: &encoded)
        #expect(encoded == bytes)
    }

    @Test func rpcRequest_example_roundTrips() throws {
        let bytes = try #require(try Self.examples()["rpc-request"])
        #expect(bytes.first == RPCChannel.request.rawValue)
        let request = try RPCRequest.decode(bytes[...])
        #expect(request == RPCMessageTests.requestExampleValue)
        #expect(try request.encoded() == bytes)
    }

    @Test func rpcResponse_example_roundTrips() throws {
        let bytes = try #require(try Self.examples()["rpc-response"])
        #expect(bytes.first == RPCChannel.response.rawValue)
        let response = try RPCResponse.decode(bytes[...])
        #expect(response == RPCResponse(id: 42, outcome: .ok(Array("hi".utf8))))
        #expect(try response.encoded() == bytes)
    }

    @Test func beaconOpen_example_decodesVerifiesAndReencodes() throws {
        let bytes = try #require(try Self.examples()["beacon-open"])
        let envelope = DiscoveryEnvelope(swarmID: [UInt8](repeating: 0, count: 32), swarmSecret: nil)
        var random = SystemRandomNumberGenerator()
        let signed = try Self.exampleRecord.sign(with: Self.exampleKey)
        let expected = envelope.encode(.beacon(signed), sentAt: UnixTime(seconds: 0), using: &random)
        #expect(bytes == expected, "expected:\n\(formatted(expected))")
        let decoded = try envelope.decode(bytes)
        #expect(decoded.sentAt == nil)
        guard case .beacon(let record) = decoded.message else {
            Issue.record("not a beacon: \(decoded.message)")
            return
        }
        #expect(try record.verify(now: UnixTime(seconds: 1_800_000_000)) == Self.exampleRecord)
        #expect(envelope.encode(decoded.message, sentAt: UnixTime(seconds: 0), using: &random) == bytes)
    }

    @Test func overlayOpen_example_decodesAndReencodes() throws {
        let bytes = try #require(try Self.examples()["overlay-open"])
        let envelope = OverlayEnvelope(swarmID: [UInt8](repeating: 0, count: 32), swarmSecret: nil)
        let nack = try MembershipMessage.nack(sequence: 7, sender: Self.exampleKey.peerID).encoded()
        var expected: [UInt8] = []
        var random = SystemRandomNumberGenerator()
        envelope.encode(.membership, nack, sentAt: UnixTime(seconds: 0), into: &expected, using: &random)
        #expect(bytes == expected, "expected:\n\(formatted(expected))")
        let opened = try bytes.withUnsafeBytes { try envelope.decode($0, now: UnixTime(seconds: 0)) }
        #expect(opened.protocolKind == .membership)
        #expect(try MembershipMessage.decode(opened.message) == .nack(sequence: 7, sender: Self.exampleKey.peerID))
    }

    @Test func overlayAddressCheck_example_decodesAndReencodes() throws {
        let bytes = try #require(try Self.examples()["overlay-address-check"])
        let envelope = OverlayEnvelope(swarmID: [UInt8](repeating: 0, count: 32), swarmSecret: nil)
        let challenge = AddressCheckMessage.challenge(
            AddressCheckNonce(high: 0x0001_0203_0405_0607, low: 0x0809_0a0b_0c0d_0e0f))
        var message: [UInt8] = []
        challenge.encode(into: &message)
        var expected: [UInt8] = []
        var random = SystemRandomNumberGenerator()
        envelope.encode(.addressCheck, message, sentAt: UnixTime(seconds: 0), into: &expected, using: &random)
        #expect(bytes == expected, "expected:\n\(formatted(expected))")
        let opened = try bytes.withUnsafeBytes { try envelope.decode($0, now: UnixTime(seconds: 0)) }
        #expect(opened.protocolKind == .addressCheck)
        #expect(try AddressCheckMessage.decode(opened.message) == challenge)
    }

    @Test func indexExamples_decodeAndReencode() throws {
        let examples = try Self.examples()
        let score = IndexPlacement.score(of: RoutingKey(service: "chat"), at: Self.exampleKey.peerID)
        var scoreBytes = ByteWriter()
        scoreBytes.write(score)
        #expect(examples["index-placement"] == scoreBytes.bytes, "expected:\n\(formatted(scoreBytes.bytes))")

        let record = try Self.exampleRecord.sign(with: Self.exampleKey)
        let register = IndexMessage.register(request: 1, lifetime: 30, record: record)
        let registerBytes = try register.encoded()
        #expect(examples["index-register"] == registerBytes, "expected:\n\(formatted(registerBytes))")
        #expect(try IndexMessage.decode(registerBytes[...]) == register)

        let list = IndexMessage.indexes(
            request: 2, members: 1_000,
            entries: [IndexEntry(id: Self.exampleKey.peerID, address: .ipv4(127, 0, 0, 1, port: 4000))])
        let listBytes = try list.encoded()
        #expect(examples["index-indexes"] == listBytes, "expected:\n\(formatted(listBytes))")
        #expect(try IndexMessage.decode(listBytes[...]) == list)

        let handoff = IndexMessage.handoff(request: 0, records: [HandedRecord(lifetime: 17, record: record)])
        let handoffBytes = try handoff.encoded()
        #expect(examples["index-handoff"] == handoffBytes, "expected:\n\(formatted(handoffBytes))")
        #expect(try IndexMessage.decode(handoffBytes[...]) == handoff)
    }

    @Test func superPeerExamples_decodeAndReencode() throws {
        let examples = try Self.examples()
        let sender = PeerID(publicKey: Key32([UInt8](repeating: 1, count: 32))!)
        let advert = SuperPeerMessage.advert(
            sender: SuperPeerAdvert(
                id: sender, address: .ipv4(10, 0, 0, 1, port: 4000), score: 16_909_060, leafCount: 90, freeSlots: 180,
                superPeers: 2_571, members: 10_000, roleEpoch: 7, sequence: .max, isSuperPeer: true),
            others: [
                SuperPeerAdvert(
                    id: PeerID(publicKey: Key32([UInt8](repeating: 2, count: 32))!),
                    address: .ipv4(10, 0, 0, 2, port: 4000), score: 64, leafCount: 0, freeSlots: 0, superPeers: 2_571,
                    roleEpoch: 8, sequence: 3, isSuperPeer: false, age: .milliseconds(12_500))
            ])
        let advertBytes = try advert.encoded()
        #expect(examples["super-peer-advert"] == advertBytes, "expected:\n\(formatted(advertBytes))")
        #expect(try SuperPeerMessage.decode(advertBytes[...]) == advert)
        let leaf = PeerID(publicKey: Key32([UInt8](repeating: 6, count: 32))!)
        let keepalive = SuperPeerMessage.keepalive(leaf: leaf, recordSequence: 0x0102_0304_0506_0708, candidacy: 64)
        let keepaliveBytes = try keepalive.encoded()
        #expect(examples["super-peer-keepalive"] == keepaliveBytes, "expected:\n\(formatted(keepaliveBytes))")
        #expect(try SuperPeerMessage.decode(keepaliveBytes[...]) == keepalive)
        let offer = SuperPeerMessage.handoverOffer(sender: PeerID(publicKey: Key32([UInt8](repeating: 5, count: 32))!))
        let offerBytes = try offer.encoded()
        #expect(examples["super-peer-handover-offer"] == offerBytes, "expected:\n\(formatted(offerBytes))")
        #expect(try SuperPeerMessage.decode(offerBytes[...]) == offer)
        let lookup = SuperPeerMessage.lookup(
            request: 0x0102_0304, asker: PeerID(publicKey: Key32([UInt8](repeating: 7, count: 32))!),
            target: .peer(PeerID(publicKey: Key32([UInt8](repeating: 8, count: 32))!)))
        let lookupBytes = try lookup.encoded()
        #expect(examples["super-peer-lookup"] == lookupBytes, "expected:\n\(formatted(lookupBytes))")
        #expect(try SuperPeerMessage.decode(lookupBytes[...]) == lookup)
        let reply = SuperPeerMessage.lookupReply(
            request: 0x0102_0304, records: [],
            referrals: [
                SuperPeerAlternative(
                    id: PeerID(publicKey: Key32([UInt8](repeating: 9, count: 32))!),
                    address: .ipv4(10, 0, 0, 9, port: 4000))
            ])
        let replyBytes = try reply.encoded()
        #expect(examples["super-peer-lookup-reply"] == replyBytes, "expected:\n\(formatted(replyBytes))")
        #expect(try SuperPeerMessage.decode(replyBytes[...]) == reply)
        let relay = SuperPeerMessage.relay(
            origin: PeerID(publicKey: Key32([UInt8](repeating: 0x0a, count: 32))!),
            target: PeerID(publicKey: Key32([UInt8](repeating: 0x0b, count: 32))!),
            payload: [0x01, 0x04, 0x00, 0x00, 0xca, 0xfe])
        let relayBytes = try relay.encoded()
        #expect(examples["super-peer-relay"] == relayBytes, "expected:\n\(formatted(relayBytes))")
        #expect(try SuperPeerMessage.decode(relayBytes[...]) == relay)
    }

    /// The example identity's claim: alive at incarnation 1 at 127.0.0.1:4000, public swarm.
    static let exampleClaim = MemberUpdate(
        state: .alive, incarnation: 1, member: exampleKey.peerID, address: .ipv4(127, 0, 0, 1, port: 4000),
        signature: MemberClaim.sign(
            swarmID: MembershipConstants.publicSwarmID, state: .alive, incarnation: 1,
            address: .ipv4(127, 0, 0, 1, port: 4000), with: exampleKey))

    @Test func membershipPing_example_decodesAndReencodes() throws {
        let bytes = try #require(try Self.examples()["membership-ping"])
        let expected = try MembershipMessage.ping(
            sequence: 7, target: Self.secondKey.peerID, sender: Self.exampleKey.peerID,
            digest: 0x0011_2233_4455_6677,
            updates: [Self.exampleClaim]
        ).encoded()
        #expect(bytes == expected, "expected:\n\(formatted(expected))")
        let message = try MembershipMessage.decode(bytes)
        guard case .ping(let sequence, let target, _, let digest, let updates) = message else {
            Issue.record("not a ping: \(message)")
            return
        }
        #expect(sequence == 7)
        #expect(target == Self.secondKey.peerID)
        #expect(digest == 0x0011_2233_4455_6677)
        #expect(updates.first?.state == .alive)
        // The claim checks against the example identity in the public swarm, and fails
        // once any signed byte changes.
        #expect(updates.first.map { MemberClaim.isValid($0, swarmID: MembershipConstants.publicSwarmID) } == true)
        var moved = Self.exampleClaim
        moved.address = .ipv4(127, 0, 0, 2, port: 4000)
        #expect(!MemberClaim.isValid(moved, swarmID: MembershipConstants.publicSwarmID))
        #expect(try message.encoded() == bytes)
    }

    /// The coordinate of the ack example: every value exact in binary32.
    static let exampleCoordinate = NetworkCoordinate(
        vector: [0.015625, -0.00390625, 0, 0, 0, 0, 0, 0], height: 0.0009765625, error: 0.25,
        adjustment: -0.0001220703125)

    @Test func membershipAck_example_decodesAndReencodes() throws {
        let bytes = try #require(try Self.examples()["membership-ack"])
        let suspicion = MemberUpdate(
            state: .suspect, incarnation: 2, member: Self.thirdKey.peerID, address: .ipv4(10, 0, 0, 3, port: 4000),
            accuser: Self.secondKey.peerID)
        let expected = try MembershipMessage.ack(
            sequence: 7, sender: Self.secondKey.peerID, digest: 0x8899_AABB_CCDD_EEFF,
            coordinate: Self.exampleCoordinate, updates: [suspicion]
        ).encoded()
        #expect(bytes == expected, "expected:\n\(formatted(expected))")
        let message = try MembershipMessage.decode(bytes)
        #expect(message.kind == .ack)
        #expect(
            message
                == .ack(
                    sequence: 7, sender: Self.secondKey.peerID, digest: 0x8899_AABB_CCDD_EEFF,
                    coordinate: Self.exampleCoordinate, updates: [suspicion]))
        #expect(try message.encoded() == bytes)
    }

    @Test func routingPing_example_decodesAndReencodes() throws {
        let bytes = try #require(try Self.examples()["routing-ping"])
        let expected = try RoutingMessage(
            requestID: 0x1122_3344_5566_7788, sender: Self.exampleKey.peerID, body: .ping
        ).encode()
        #expect(bytes == expected, "expected:\n\(formatted(expected))")
        let message = try RoutingMessage.decode(bytes[...])
        #expect(message.body == .ping)
        #expect(message.requestID == 0x1122_3344_5566_7788)
        #expect(message.sender == Self.exampleKey.peerID)
        #expect(try message.encode() == bytes)
    }

    @Test func routingFindNode_example_decodesAndReencodes() throws {
        let bytes = try #require(try Self.examples()["routing-find-node"])
        let target = RoutingKey(peer: Self.secondKey.peerID)
        let expected = try RoutingMessage(
            requestID: 0x1122_3344_5566_7788, sender: Self.exampleKey.peerID, body: .findNode(target: target)
        ).encode()
        #expect(bytes == expected, "expected:\n\(formatted(expected))")
        let message = try RoutingMessage.decode(bytes[...])
        #expect(message.body == .findNode(target: target))
        #expect(message.sender == Self.exampleKey.peerID)
        #expect(try message.encode() == bytes)
    }

    @Test func spreadingGossip_example_decodesAndReencodes() throws {
        let bytes = try #require(try Self.examples()["spreading-gossip"])
        let id = SpreadingID(high: 0x1122_3344_5566_7788, low: 0x99AA_BBCC_DDEE_FF00)
        let expected = try SpreadingMessage.signedGossip(
            id: id, hops: 2, payload: Array("hello".utf8), swarmID: Self.publicSwarm, by: Self.exampleKey
        ).encoded()
        #expect(bytes == expected, "expected:\n\(formatted(expected))")
        #expect(bytes.count == SpreadingMessage.gossipOverhead + 5)
        let message = try SpreadingMessage.decode(bytes)
        guard case .gossip(let decodedID, let origin, let hops, let payload, let signature) = message else {
            Issue.record("not a gossip message: \(message)")
            return
        }
        #expect(decodedID == id)
        #expect(origin == Self.exampleKey.peerID)
        #expect(hops == 2)
        #expect(payload == Array("hello".utf8))
        let signed = SpreadingSignature.gossipBytes(swarmID: Self.publicSwarm, id: id, origin: origin, payload: payload)
        #expect(origin.verify(signature: signature, of: signed))
        #expect(try message.encoded() == bytes)
    }

    @Test func spreadingQuery_example_decodesAndReencodes() throws {
        let bytes = try #require(try Self.examples()["spreading-query"])
        let id = SpreadingID(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10)
        let expected = try SpreadingMessage.signedQuery(
            id: id, ttl: 7, hops: 0, wantsNotices: true, payload: Array("chat".utf8), swarmID: Self.publicSwarm,
            by: Self.exampleKey
        ).encoded()
        #expect(bytes == expected, "expected:\n\(formatted(expected))")
        #expect(bytes.count == SpreadingMessage.queryOverhead + 4)
        let message = try SpreadingMessage.decode(bytes)
        guard
            case .query(let decodedID, let origin, let ttl, let hops, let wantsNotices, let payload, let signature) =
                message
        else {
            Issue.record("not a query: \(message)")
            return
        }
        #expect(decodedID == id)
        #expect(origin == Self.exampleKey.peerID)
        #expect(ttl == 7)
        #expect(hops == 0)
        #expect(wantsNotices)
        #expect(payload == Array("chat".utf8))
        let signed = SpreadingSignature.queryBytes(
            swarmID: Self.publicSwarm, id: id, origin: origin, wantsNotices: wantsNotices, payload: payload)
        #expect(origin.verify(signature: signature, of: signed))
        #expect(try message.encoded() == bytes)
    }

    /// Sixteen space-separated bytes per line, as the document writes them.
    @Test func groupExamples_deriveDecodeAndReencode() throws {
        let examples = try Self.examples()
        let swarmID = [UInt8](repeating: 0x11, count: 32)
        let key = GroupKey(name: "chat", swarmID: swarmID, swarmSecret: nil)
        #expect(examples["group-id"] == key.id.key.bytes, "expected:\n\(formatted(key.id.key.bytes))")
        let keyBytes = SwarmSealKey.deriveBytes(
            swarmID: key.id.key.bytes, swarmSecret: swarmID, domain: GroupConstants.keyDomain)
        #expect(examples["group-key"] == keyBytes, "expected:\n\(formatted(keyBytes))")

        let sender = Self.exampleKey.peerID
        let report = GroupMessage.report(
            sender: sender, entries: [GroupReportEntry(group: key.id, flags: GroupReportEntry.wantsMembers)])
        let reportBytes = try report.encoded()
        #expect(examples["group-report"] == reportBytes, "expected:\n\(formatted(reportBytes))")
        #expect(try GroupMessage.decode(reportBytes[...]) == report)

        let member = GroupMember(id: Self.secondKey.peerID, address: .ipv4(127, 0, 0, 1, port: 4001))
        let members = GroupMessage.members(
            sender: sender, answers: [GroupMembersAnswer(group: key.id, members: [member])])
        let membersBytes = try members.encoded()
        #expect(examples["group-members"] == membersBytes, "expected:\n\(formatted(membersBytes))")
        #expect(try GroupMessage.decode(membersBytes[...]) == members)

        let id = GroupMessageID(origin: Self.secondKey.peerID, sequence: 1_800_000_000_000_000)
        let nonce = [UInt8](0..<24)
        let sealed = key.seal.seal(
            nonce: nonce, ad: GroupKey.additionalData(group: key.id, origin: id.origin, sequence: id.sequence),
            plaintext: Array("hi".utf8))
        let data = GroupMessage.data(sender: sender, group: key.id, id: id, hops: 2, nonce: nonce, sealed: sealed)
        let dataBytes = try data.encoded()
        #expect(examples["group-data"] == dataBytes, "expected:\n\(formatted(dataBytes))")
        #expect(try GroupMessage.decode(dataBytes[...]) == data)

        let iHave = GroupMessage.iHave(sender: sender, group: key.id, ids: [id])
        let iHaveBytes = try iHave.encoded()
        #expect(examples["group-ihave"] == iHaveBytes, "expected:\n\(formatted(iHaveBytes))")
        #expect(try GroupMessage.decode(iHaveBytes[...]) == iHave)
    }

    func formatted(_ bytes: [UInt8]) -> String {
        stride(from: 0, to: bytes.count, by: 16).map { start in
            bytes[start..<min(start + 16, bytes.count)].map { hexString([$0]) }.joined(separator: " ")
        }.joined(separator: "\n")
    }
}
