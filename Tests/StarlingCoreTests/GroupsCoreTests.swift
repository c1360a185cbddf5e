import Testing

@testable import StarlingCore

/// The group messages' wire form, and the group core's rules fed by hand: reports and
/// samples, links, Plumtree's prune and graft, at-most-once, sealing, LAN multicast.
@Suite struct GroupsCoreTests {
    static let swarmID = [UInt8](repeating: 0x11, count: 32)
    static let key = GroupKey(name: "chat", swarmID: swarmID, swarmSecret: nil)
    static let start = Instant.zero + .seconds(1)

    /// A few group cores that hand each other's messages over, except those `drop` refuses.
    struct Bench {
        var cores: [GroupsCore]
        var now = GroupsCoreTests.start
        var drop: (GroupMessage, Int, Int) -> Bool = { _, _, _ in false }
        /// Messages sent to the LAN channel, by sender.
        var multicast: [Int: [GroupMessage]] = [:]

        init(count: Int) {
            cores = (0..<count).map { index in
                let id = PeerID(publicKey: Key32([UInt8](repeating: UInt8(index + 1), count: 32))!)
                return GroupsCore(
                    localID: id, localAddress: .ipv4(10, 0, 0, UInt8(index + 1), port: 4000),
                    wallClock: UnixTime(seconds: 1_800_000_000), seed: UInt64(index), now: GroupsCoreTests.start)
            }
        }

        func member(_ index: Int) -> GroupMember {
            GroupMember(id: cores[index].localID, address: cores[index].localAddress)
        }

        /// Delivers every queued message (and what it causes) until none is left.
        mutating func settle() {
            for _ in 0..<1_000 {
                var moved = false
                for from in cores.indices {
                    var buffer: [UInt8] = []
                    while let destination = cores[from].pollTransmit(now: now, into: &buffer) {
                        moved = true
                        let message = try! GroupMessage.decode(buffer[...])
                        if destination == cores[from].lanChannel {
                            multicast[from, default: []].append(message)
                            for to in cores.indices where to != from && cores[to].lanChannel == destination {
                                cores[to].handleMessage(message, from: member(from), viaLAN: true, now: now)
                            }
                            continue
                        }
                        guard let to = cores.firstIndex(where: { $0.localAddress == destination }),
                            !drop(message, from, to)
                        else { continue }
                        cores[to].handleMessage(message, from: member(from), viaLAN: false, now: now)
                    }
                }
                if !moved { return }
            }
        }

        /// Runs the timers until `duration` has passed, settling after each.
        mutating func advance(_ duration: Duration) {
            let end = now + duration
            while let next = cores.compactMap({ $0.pollTimeout() }).min(), next <= end {
                now = max(now, next)
                for index in cores.indices where (cores[index].pollTimeout() ?? end + .seconds(1)) <= now {
                    cores[index].handleTimeout(now: now)
                }
                settle()
            }
            now = end
        }

        /// Joins every core to the group, with core 0 as its only rendezvous peer, and links
        /// them all to each other.
        mutating func joinAll() {
            for index in cores.indices {
                try! cores[index].join(GroupsCoreTests.key, now: now)
                _ = cores[index].takeRendezvousRequests()
                cores[index].setRendezvous([member(0)], for: GroupsCoreTests.key.id, now: now)
            }
            advance(.seconds(3))
        }

        func messages(at index: Int) -> [GroupMessageID] {
            var copy = cores[index]
            var ids: [GroupMessageID] = []
            while let event = copy.pollEvent() {
                if case .message(_, let id, _, _, _) = event { ids.append(id) }
            }
            return ids
        }
    }

    @Test func messages_roundTripAndRefuseMalformedInput() throws {
        let sender = PeerID(publicKey: Key32([UInt8](repeating: 9, count: 32))!)
        let group = Self.key.id
        let id = GroupMessageID(origin: sender, sequence: 42)
        let messages: [GroupMessage] = [
            .report(sender: sender, entries: [GroupReportEntry(group: group, flags: 3)]),
            .lanReport(sender: sender, entries: []),
            .members(sender: sender, answers: [GroupMembersAnswer(group: group, members: [])]),
            .link(sender: sender, group: group), .unlink(sender: sender, group: group),
            .prune(sender: sender, group: group), .graft(sender: sender, group: group, id: id),
            .iHave(sender: sender, group: group, ids: [id, id]),
            .data(
                sender: sender, group: group, id: id, hops: 1, nonce: [UInt8](repeating: 0, count: 24),
                sealed: [UInt8](repeating: 1, count: 20)),
        ]
        for message in messages {
            let bytes = try message.encoded()
            #expect(try GroupMessage.decode(bytes[...]) == message)
            for cut in 0..<bytes.count where message.kind != .data || cut < bytes.count - 4 {
                #expect(throws: WireError.self) { try GroupMessage.decode(bytes[..<cut]) }
            }
            // A data message's sealed part runs to the end: there, a byte more is a longer
            // ciphertext, which the group key refuses.
            if message.kind != .data {
                #expect(throws: WireError.self) { try GroupMessage.decode((bytes + [0])[...]) }
            }
        }
        #expect(throws: WireError.self) { try GroupMessage.decode([0x7f][...]) }
        let tooMany = GroupMessage.report(
            sender: sender,
            entries: Array(
                repeating: GroupReportEntry(group: group, flags: 0), count: GroupConstants.maximumReportEntries + 1))
        #expect(throws: WireError.self) { try tooMany.encoded() }
        var forged = try GroupMessage.iHave(sender: sender, group: group, ids: []).encoded()
        forged[forged.count - 1] = UInt8(GroupConstants.maximumIHaveEntries + 1)
        #expect(throws: WireError.self) { try GroupMessage.decode(forged[...]) }
        // A report of the most entries fits one overlay datagram.
        let full = GroupMessage.report(
            sender: sender,
            entries: Array(
                repeating: GroupReportEntry(group: group, flags: 0), count: GroupConstants.maximumReportEntries))
        #expect(try full.encoded().count <= OverlayConstants.maximumMessageSize)
    }

    @Test func rendezvousTable_isBoundedPerGroupAndRefreshes() {
        var table = RendezvousTable()
        let group = Self.key.id
        let until = Self.start + .seconds(60)
        for index in 0..<GroupConstants.maximumRegistrationsPerGroup {
            let id = PeerID(publicKey: Key32(words: UInt64(index), 1, 2, 3))
            let registered = table.register(
                GroupMember(id: id, address: .ipv4(10, 0, 0, 1, port: 1)), in: group, until: until)
            #expect(registered)
        }
        let extra = GroupMember(id: PeerID(publicKey: Key32(words: 9, 9, 9, 9)), address: .ipv4(10, 0, 0, 2, port: 1))
        let refused = !table.register(extra, in: group, until: until)
        #expect(refused)
        // A member already registered is always refreshed.
        let first = GroupMember(id: PeerID(publicKey: Key32(words: 0, 1, 2, 3)), address: .ipv4(10, 0, 0, 1, port: 1))
        let refreshed = table.register(first, in: group, until: until + .seconds(60))
        #expect(refreshed)
        var random = ForkedRandom(seed: 1)
        #expect(table.sample(of: group, excluding: first.id, count: 16, now: Self.start, using: &random).count == 16)
        table.expire(now: until)
        #expect(table.count == 1)
        table.remove(first.id, from: group)
        #expect(table.count == 0 && table.groupCount == 0)
    }

    @Test func membersFindEachOtherAndEveryMessageArrivesOnce() {
        var bench = Bench(count: 5)
        bench.joinAll()
        // Core 0, the rendezvous peer, registered every member, itself included.
        #expect(bench.cores[0].registrationCount == 5)
        for index in bench.cores.indices {
            #expect(bench.cores[index].links(of: Self.key.id).contains { $0.eager != nil }, "core \(index) unlinked")
        }
        var sent: [GroupMessageID] = []
        for origin in [0, 2, 4] {
            sent.append(try! bench.cores[origin].send([UInt8(origin)], to: Self.key, now: bench.now))
            bench.settle()
        }
        bench.advance(.seconds(2))
        for index in bench.cores.indices {
            let expected = sent.filter { $0.origin != bench.cores[index].localID }
            #expect(
                bench.messages(at: index).sorted { $0.sequence < $1.sequence }
                    == expected.sorted { $0.sequence < $1.sequence })
        }
        // Duplicates turned links lazy: the eager links left form a tree (4 edges for 5
        // members), so the next message costs one copy per member.
        let pushedBefore = bench.cores.reduce(0) { $0 + $1.statistics.pushed }
        _ = try! bench.cores[1].send([9], to: Self.key, now: bench.now)
        bench.advance(.seconds(2))
        let pushed = bench.cores.reduce(0) { $0 + $1.statistics.pushed } - pushedBefore
        #expect(pushed == 4)
    }

    @Test func aLostPushIsRepairedByAGraft() {
        var bench = Bench(count: 4)
        bench.joinAll()
        // Settle the tree, then lose every data message to core 3.
        _ = try! bench.cores[0].send([1], to: Self.key, now: bench.now)
        bench.advance(.seconds(2))
        bench.drop = { message, _, to in
            if case .data = message { return to == 3 }
            return false
        }
        let id = try! bench.cores[0].send([2], to: Self.key, now: bench.now)
        bench.settle()
        #expect(!bench.messages(at: 3).contains(id))
        bench.drop = { _, _, _ in false }
        bench.advance(.seconds(2))
        #expect(bench.messages(at: 3).filter { $0 == id }.count == 1)
        #expect(bench.cores[3].statistics.grafts >= 1)
    }

    @Test func copiesAndForgeriesAreRefused() {
        var bench = Bench(count: 2)
        bench.joinAll()
        var captured: GroupMessage?
        bench.drop = { message, _, _ in
            if case .data = message { captured = message }
            return false
        }
        _ = try! bench.cores[0].send([1, 2, 3], to: Self.key, now: bench.now)
        bench.settle()
        let data = try! #require(captured)
        bench.cores[1].handleMessage(data, from: bench.member(0), viaLAN: false, now: bench.now)
        #expect(bench.cores[1].statistics.duplicates == 1)
        #expect(bench.cores[1].statistics.delivered == 1)
        guard case .data(let sender, let group, let id, let hops, let nonce, var sealed) = data else { return }
        sealed[0] ^= 1
        let forged = GroupMessageID(origin: id.origin, sequence: id.sequence + 1)
        bench.cores[1].handleMessage(
            .data(sender: sender, group: group, id: forged, hops: hops, nonce: nonce, sealed: sealed),
            from: bench.member(0), viaLAN: false, now: bench.now)
        #expect(bench.cores[1].statistics.unauthentic == 1)
        #expect(bench.cores[1].statistics.delivered == 1)
    }

    @Test func linksAreRefusedWhenFull() {
        var bench = Bench(count: 1)
        try! bench.cores[0].join(Self.key, now: bench.now)
        for index in 0..<(GroupConstants.maximumLinks + 1) {
            let other = GroupMember(
                id: PeerID(publicKey: Key32(words: UInt64(index + 100), 0, 0, 0)),
                address: .ipv4(10, 1, 0, UInt8(index), port: 4000))
            bench.cores[0].handleMessage(
                .link(sender: other.id, group: Self.key.id), from: other, viaLAN: false, now: bench.now)
        }
        #expect(bench.cores[0].links(of: Self.key.id).count == GroupConstants.maximumLinks)
        #expect(bench.cores[0].statistics.linksRefused == 1)
    }

    @Test func lanMatesGetOneMulticastAndNoUnicastCopy() {
        var bench = Bench(count: 4)
        let channel = PeerAddress.ipv4(239, 255, 83, 1, port: 4001)
        // Cores 0, 1 and 2 share a LAN segment; core 3 is elsewhere.
        for index in 0..<3 { bench.cores[index].setLANChannel(channel, now: bench.now) }
        bench.joinAll()
        #expect(!bench.multicast.isEmpty, "LAN reports went out")
        let pushedBefore = bench.cores[0].statistics.pushed
        let id = try! bench.cores[0].send([7], to: Self.key, now: bench.now)
        bench.advance(.seconds(2))
        let multicasts = bench.multicast[0]?.filter { if case .data = $0 { true } else { false } } ?? []
        #expect(multicasts.count == 1)
        for index in 1..<4 { #expect(bench.messages(at: index).filter { $0 == id }.count == 1) }
        #expect(bench.cores[1].statistics.deliveredViaLAN == 1 && bench.cores[2].statistics.deliveredViaLAN == 1)
        // Only core 3 (off the segment) may have got a unicast copy from core 0.
        #expect(bench.cores[0].statistics.pushed - pushedBefore <= 1)
        #expect(bench.cores[3].statistics.deliveredViaLAN == 0)
    }
}
