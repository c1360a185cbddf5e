internal import StarlingCore

extension SimNetwork {
    // MARK: Building hosts

    /// Adds a host whose cores will serve the nodes made on it with
    /// ``makeNode(name:address:core:host:)``.
    ///
    /// - Parameter host: the host's cores, cost model, background load and receive queues.
    /// - Returns: the new host.
    /// - Precondition: `host` has at least one core, a `busyFraction` in `0..<1` and a
    ///   positive receive buffer capacity.
    public mutating func addHost(_ host: SimHost) -> SimHostID {
        hosts.append(SimHostScheduler(host: host))
        return SimHostID(rawValue: hosts.count - 1)
    }

    /// Changes the share of `host`'s cores taken by something outside the simulation;
    /// services that start from now on take the new share into account.
    ///
    /// - Parameters:
    ///   - fraction: in `0..<1`; see ``SimHost/busyFraction``.
    ///   - host: the host.
    public mutating func setBusyFraction(_ fraction: Double, of host: SimHostID) {
        precondition((0..<1).contains(fraction), "busyFraction must be in 0..<1")
        hosts[host.rawValue].host.busyFraction = fraction
    }

    // MARK: Host getters

    /// Every host, in the order added.
    public var hostIDs: [SimHostID] { hosts.indices.map(SimHostID.init(rawValue:)) }

    /// The description `host` was added with (and its current ``SimHost/busyFraction``).
    public func configuration(of host: SimHostID) -> SimHost { hosts[host.rawValue].host }

    /// The counters of `host` so far.
    public func statistics(of host: SimHostID) -> SimHostStatistics { hosts[host.rawValue].statistics }

    /// The host whose cores serve `node`, or `nil` for a node that is never late.
    public func host(of node: SimNodeID) -> SimHostID? { nodes[node.rawValue].hosting?.host }

    /// The nodes on `host`, in the order made.
    public func nodes(on host: SimHostID) -> [SimNodeID] {
        nodeIDs.filter { nodes[$0.rawValue].hosting?.host == host }
    }

    /// Datagrams `node`'s full receive queue has dropped since it was made; 0 for a node
    /// without a host.
    public func receiveQueueDrops(of node: SimNodeID) -> Int {
        nodes[node.rawValue].hosting?.inbox.drops ?? 0
    }

    /// Datagrams waiting in `node`'s receive queue; 0 for a node without a host.
    public func receiveQueueLength(of node: SimNodeID) -> Int {
        nodes[node.rawValue].hosting?.inbox.count ?? 0
    }

    /// Bytes held by `node`'s receive queue, per-datagram overhead included; 0 for a node
    /// without a host.
    public func receiveQueueBytes(of node: SimNodeID) -> Int {
        nodes[node.rawValue].hosting?.inbox.bytes ?? 0
    }

    // MARK: Serving work

    /// Puts a datagram that reached hosted node `to` into its receive queue, or drops it
    /// there if the queue is full, then lets the host serve.
    mutating func enqueue(_ payload: [UInt8], from: SimNodeID, to: SimNodeID) {
        let now = clock.now
        let index = to.rawValue
        let host = nodes[index].hosting!.host
        let hadWork = nodes[index].hosting!.oldestSequence != nil
        let datagram = SimReceiveQueue.Datagram(
            from: from, payload: payload, arrival: now, sequence: queue.takeSequence())
        guard nodes[index].hosting!.inbox.offer(datagram) else {
            hosts[host.rawValue].statistics.receiveQueueDrops += 1
            trace.noteDropped(
                at: now, node: from, reason: .receiveQueueFull, to: nodes[index].address, size: payload.count)
            return
        }
        if !hadWork, !nodes[index].hosting!.isBeingServed {
            hosts[host.rawValue].markReady(to, sequence: datagram.sequence)
        }
        dispatch(host)
    }

    /// Records that hosted `node`'s timer came due, then lets the host serve; the timer
    /// stays unarmed until the core has handled it.
    mutating func enqueueTimer(of node: SimNodeID) {
        let index = node.rawValue
        guard nodes[index].hosting!.dueTimer == nil else { return }
        let host = nodes[index].hosting!.host
        let hadWork = nodes[index].hosting!.oldestSequence != nil
        let sequence = queue.takeSequence()
        nodes[index].hosting!.dueTimer = SimHostedNode.DueTimer(since: clock.now, sequence: sequence)
        if !hadWork, !nodes[index].hosting!.isBeingServed {
            hosts[host.rawValue].markReady(node, sequence: sequence)
        }
        dispatch(host)
    }

    /// Starts serving ready nodes while `host` has free cores.
    private mutating func dispatch(_ host: SimHostID) {
        while let node = hosts[host.rawValue].claimCore() {
            startService(of: node)
        }
    }

    /// Hands `node`'s oldest waiting work to its core now, collects what the core sends,
    /// and schedules the end of the service after the CPU time it costs.
    ///
    /// A due timer whose deadline the core has since moved past `now` (or cleared) is not
    /// fired; its service is free and only re-arms the timer.
    private mutating func startService(of node: SimNodeID) {
        let now = clock.now
        let index = node.rawValue
        let host = nodes[index].hosting!.host
        let cpu = hosts[host.rawValue].host.cpu
        nodes[index].hosting!.isBeingServed = true
        var cost = Duration.zero
        var delay: Duration?
        let firstDatagram = nodes[index].hosting!.inbox.first?.sequence
        if let due = nodes[index].hosting!.dueTimer, firstDatagram.map({ due.sequence < $0 }) ?? true {
            nodes[index].hosting!.dueTimer = nil
            if let deadline = deadline(ofCore: index), deadline <= now {
                delay = now - due.since
                reportLoad(of: node, timerLag: now - deadline, beforeTimer: true)
                trace.noteTimer(at: now, node: node)
                cores[index].handleTimeout(now: now)
                cost = cpu.timerCost
                hosts[host.rawValue].statistics.timersServed += 1
            }
        } else if let datagram = nodes[index].hosting!.inbox.popFirst() {
            delay = now - datagram.arrival
            reportLoad(of: node, timerLag: .zero, beforeTimer: false)
            trace.noteDelivered(at: now, node: node, from: datagram.from, size: datagram.payload.count)
            let source = nodes[datagram.from.rawValue].address
            datagram.payload.withUnsafeBytes { bytes in
                cores[index].handleDatagram(bytes, from: source, now: now)
            }
            cost = cpu.receiveCost(bytes: datagram.payload.count)
            hosts[host.rawValue].statistics.datagramsServed += 1
        }
        while let destination = cores[index].pollTransmit(now: now, into: &transmitBuffer) {
            cost += cpu.sendCost(bytes: transmitBuffer.count)
            nodes[index].hosting!.outputs.append((destination, transmitBuffer.withUnsafeBufferPointer { [UInt8]($0) }))
        }
        let serviceTime = SimCPUModel.serviceTime(of: cost, busyFraction: hosts[host.rawValue].host.busyFraction)
        if let delay {
            hosts[host.rawValue].statistics.busyTime += serviceTime
            hosts[host.rawValue].statistics.maxQueueingDelay = max(
                hosts[host.rawValue].statistics.maxQueueingDelay, delay)
            trace.noteServed(delay: delay, serviceTime: serviceTime)
        }
        services.schedule(SimAgendaKey(time: now + serviceTime, sequence: queue.takeSequence()), node: node)
    }

    /// Tells `node`'s core, before an input, how late it is, how many datagrams its
    /// receive queue dropped since the last report and, before a timer (as the SwiftNIO
    /// driver does), how many bytes wait unread; only when something is non-zero.
    private mutating func reportLoad(of node: SimNodeID, timerLag: Duration, beforeTimer: Bool) {
        let index = node.rawValue
        let drops = nodes[index].hosting!.inbox.takeUnreportedDrops()
        let unread = beforeTimer ? receiveQueueBytes(of: node) : 0
        let load = DriverLoad(timerLag: timerLag, receiveDrops: drops, unreadBytes: unread)
        guard !load.isEmpty else { return }
        let now = clock.now
        cores[index].noteLoad(load, now: now)
        hosts[nodes[index].hosting!.host.rawValue].statistics.loadReports += 1
        trace.noteLoadReported(at: now, node: node, load)
    }

    /// Ends `node`'s service now: sends what its core sent, re-arms its timer, collects
    /// its events, frees the core, and lets the host serve the next work.
    mutating func finishService(of node: SimNodeID) {
        let index = node.rawValue
        let host = nodes[index].hosting!.host
        var outputs: [(destination: PeerAddress, payload: [UInt8])] = []
        swap(&outputs, &nodes[index].hosting!.outputs)
        for output in outputs {
            send(output.payload, from: node, to: output.destination)
        }
        nodes[index].hosting!.isBeingServed = false
        drive(node)
        hosts[host.rawValue].releaseCore()
        if let sequence = nodes[index].hosting!.oldestSequence {
            hosts[host.rawValue].markReady(node, sequence: sequence)
        }
        dispatch(host)
    }
}
