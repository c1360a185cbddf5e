public import Logging
public import StarlingCore
public import StarlingIO

extension Swarm {
    /// What a ``Swarm`` launches: how many peers, where, and with which overlay.
    public struct Configuration: Sendable {
        /// Where each peer listens.
        public enum Addressing: Sendable, Equatable {
            /// Every peer on `host` (a loopback address) with a port of its own.
            case ports(host: PeerAddress.Host)
            /// Peer `i` on loopback address `127.<base>.<i / 250>.<i % 250 + 1>` with a
            /// system-chosen port, as if each were a host of its own.
            case loopbackAddresses(base: UInt8)
        }

        /// The overlay's shape across the swarm: who answers lookups.
        public enum Shape: Sendable, Equatable {
            /// Every peer equal (`Topology.pure`).
            case pure
            /// The first `indexServers` peers are index servers (each finds the first as
            /// its fellow), the rest hybrid clients given every index server's address
            /// (`Topology.hybrid(_:)`). Clients join through the index servers
            /// in turn. With ``seeds`` set (joining another process's swarm) everybody
            /// joins through them, and the index servers are this swarm's only.
            case hybrid(indexServers: Int)
            /// Every peer starts as a leaf and super-peers are elected as the swarm needs
            /// them (`Topology.superPeer(_:)`, with the settings of
            /// ``Configuration/superPeer``).
            case superPeer
        }

        /// How many peers to launch (1 to 65,000).
        public var peers: Int
        /// The overlay's shape; default ``Shape/pure``. Its topology replaces
        /// ``overlay``'s.
        public var shape = Shape.pure
        /// The super-peer settings of every peer in a ``Shape/superPeer`` swarm; default
        /// `SuperPeerConfiguration.local`.
        public var superPeer = SuperPeerConfiguration.local
        /// The overlay every peer runs; default `OverlayConfiguration.local`.
        public var overlay: OverlayConfiguration = .local
        /// The swarm ID (32 bytes; all zero is the public swarm).
        public var swarmID = [UInt8](repeating: 0, count: 32)
        /// The swarm secret (32 bytes) of a private swarm, or nil.
        public var swarmSecret: [UInt8]?
        /// Where peers listen; default every peer on 127.0.0.1 with its own port.
        public var addressing = Addressing.ports(host: .ipv4(0x7F00_0001))
        /// Members of an existing overlay to join (for example another process's swarm);
        /// empty to start a new one, whose first peer is then every other peer's seed.
        public var seeds: [PeerAddress] = []
        /// Peers starting at the same time, at most.
        public var launchConcurrency = 32
        /// Whether peers open TCP listeners (one more descriptor each); off by default.
        public var acceptsStreams = false
        /// The peers' UDP socket settings: small vector reads and buffers by default, so
        /// that thousands of peers fit in memory, and up to 16 reads per wake-up: hundreds
        /// of sockets share each event loop, and a socket that everybody writes to (the
        /// seed during a join storm) must not be served 4 datagrams per turn of the loop
        /// while its queue overflows.
        public var datagrams: DatagramOptions = {
            var options = DatagramOptions.standard
            options.vectorReadCount = 4
            options.readBatchesPerWakeup = 16
            options.socketBufferSize = 256 * 1024
            return options
        }()

        /// The chance, from 0 to 1, that a peer drops a datagram it receives (injected in
        /// process, see `InjectedLoss`); 0 by default.
        public var injectedLoss = 0.0
        /// The seed of the injected loss; peer `i` uses `lossSeed + i`.
        public var lossSeed: UInt64 = 0
        /// Where every peer logs (``PeerConfiguration/logger``), with its launch index as
        /// `starling.swarm.index` metadata. Default: discards everything.
        public var logger = Logger.discarding

        /// A configuration of `peers` peers on 127.0.0.1.
        public init(peers: Int) {
            self.peers = peers
        }

        /// Open files the swarm needs: one UDP socket per peer, one listener more with
        /// ``acceptsStreams``, and a reserve for the event loops and the process.
        public var descriptorsNeeded: Int { peers * (acceptsStreams ? 2 : 1) + Swarm.descriptorReserve }

        /// Index servers the swarm launches first: 0 for a pure swarm.
        public var indexServerCount: Int {
            switch shape {
            case .pure, .superPeer: 0
            case .hybrid(let indexServers): indexServers
            }
        }

        /// The role peer `index` starts with (in a super-peer swarm the election then
        /// promotes some leaves).
        public func role(of index: Int) -> TopologyRole {
            switch shape {
            case .pure: .peer
            case .hybrid(let indexServers): index < indexServers ? .index : .client
            case .superPeer: .leaf
            }
        }

        /// The configuration of peer `index`, given the addresses of the index servers
        /// already started (all of them for a client; the first, if any, for an index).
        func peer(_ index: Int, seeds: [PeerAddress], indexes: [PeerAddress] = []) -> PeerConfiguration {
            var configuration = PeerConfiguration()
            switch addressing {
            case .ports(let host):
                configuration.listenAddress = PeerAddress(host: host, port: 0)
            case .loopbackAddresses(let base):
                configuration.listenAddress = .ipv4(127, base, UInt8(index / 250), UInt8(index % 250 + 1), port: 0)
            }
            configuration.swarmID = swarmID
            configuration.swarmSecret = swarmSecret
            configuration.overlay = overlay
            switch role(of: index) {
            case .peer: configuration.topology = .pure
            case .index:
                var hybrid = HybridConfiguration.index(fellows: Array(indexes.prefix(1)))
                hybrid.limits = indexLimits
                configuration.topology = .hybrid(hybrid)
            case .client: configuration.topology = .hybrid(.client(indexes: indexes))
            case .leaf, .superPeer: configuration.topology = .superPeer(superPeer)
            }
            configuration.seeds = seeds
            if role(of: index) == .client, self.seeds.isEmpty, !indexes.isEmpty {
                // Each client joins through one index server in turn, so that the first
                // does not answer every join on top of its share of the registrations.
                configuration.seeds = [indexes[index % indexes.count]]
            }
            configuration.acceptsStreams = acceptsStreams
            configuration.logger = logger
            configuration.logger[metadataKey: "starling.swarm.index"] = "\(index)"
            configuration.datagrams = datagrams
            if role(of: index) == .index {
                // Every client writes to the few index servers (registrations, lookups,
                // lists) on top of the joins: they get the standard socket's queue and
                // vector reads, so that a burst waits in the queue instead of being dropped.
                configuration.datagrams.socketBufferSize = max(
                    datagrams.socketBufferSize, DatagramOptions.standard.socketBufferSize)
                configuration.datagrams.vectorReadCount = max(
                    datagrams.vectorReadCount, DatagramOptions.standard.vectorReadCount)
            }
            if injectedLoss > 0 {
                configuration.datagrams.injectedLoss = InjectedLoss(
                    probability: injectedLoss, seed: lossSeed &+ UInt64(index))
            }
            return configuration
        }

        /// What each index server accepts: the defaults, raised so that every peer of a
        /// swarm on one loopback address may register (several keys each, refreshed
        /// after a third of their lifetime) without meeting the per-host limits.
        var indexLimits: IndexLimits {
            var limits = IndexLimits()
            limits.maximumRegistrationsPerHost = max(limits.maximumRegistrationsPerHost, 4 * peers)
            limits.registrationBurstPerHost = max(limits.registrationBurstPerHost, 4 * peers)
            limits.registrationsPerSecondPerHost = max(limits.registrationsPerSecondPerHost, Double(4 * peers))
            limits.maximumRegistrations = max(limits.maximumRegistrations, 4 * peers)
            return limits
        }

        /// Checks the numbers.
        func validate() throws(SwarmError) {
            guard (1...65_000).contains(peers) else {
                throw .invalidConfiguration("peers must be 1 to 65,000, not \(peers)")
            }
            guard (0..<1).contains(injectedLoss) else {
                throw .invalidConfiguration("injectedLoss must be from 0 to below 1, not \(injectedLoss)")
            }
            if case .hybrid(let indexServers) = shape {
                guard (1...HybridConstants.maximumIndexes).contains(indexServers), indexServers < peers else {
                    throw .invalidConfiguration(
                        "a hybrid swarm needs 1 to \(HybridConstants.maximumIndexes) index servers, "
                            + "fewer than its \(peers) peers, not \(indexServers)")
                }
            }
            guard launchConcurrency >= 1 else {
                throw .invalidConfiguration("launchConcurrency must be at least 1, not \(launchConcurrency)")
            }
            if case .loopbackAddresses(let base) = addressing, base == 0 || base == 255 || peers > 250 * 256 {
                throw .invalidConfiguration("loopback addresses need a base of 1 to 254 and at most 64,000 peers")
            }
        }
    }
}

/// Why a ``Swarm`` could not launch.
public enum SwarmError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A setting is out of range.
    case invalidConfiguration(String)
    /// The swarm needs more open files than the process may have, even after raising
    /// its soft limit to the hard one.
    case openFileLimit(needed: Int, limit: Int, maximum: Int)
    /// Peer `index` failed to start; the peers already started were shut down.
    case launchFailed(index: Int, PeerError)

    public var description: String {
        switch self {
        case .invalidConfiguration(let reason): "invalid swarm configuration: \(reason)"
        case .openFileLimit(let needed, let limit, let maximum):
            """
            this swarm needs \(needed) open files but the process may open \(limit) \
            (hard limit \(maximum)); raise it before starting, for example with `ulimit -n \(needed)` \
            (beyond the hard limit: as root, or in /etc/security/limits.conf), or launch fewer peers
            """
        case .launchFailed(let index, let error): "peer \(index) failed to start: \(error)"
        }
    }
}
