/// Every fuzz target, by the name `make fuzz` and `STARLING_FUZZ_TARGET` use.
enum FuzzTarget: String, CaseIterable {
    case header
    case overlay
    case membership
    case routing
    case spreading
    case index
    case superPeer = "super-peer"
    case group
    case rpc
    case session
    case record
    case discovery
    case framers
    case stream
    case streamPair = "stream-pair"
    case keyfile
    case mdns
    case mdnsCore = "mdns-core"
    case sessionCore = "session-core"
    case peerCore = "peer-core"
    case membershipCore = "membership-core"
    case nodeCore = "node-core"

    /// Runs one input.
    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .header: DecoderTargets.header(Array(bytes))
        case .overlay: DecoderTargets.overlay(Array(bytes))
        case .membership: DecoderTargets.membership(Array(bytes))
        case .routing: DecoderTargets.routing(Array(bytes))
        case .spreading: DecoderTargets.spreading(Array(bytes))
        case .index: DecoderTargets.index(Array(bytes))
        case .superPeer: DecoderTargets.superPeer(Array(bytes))
        case .group: DecoderTargets.group(Array(bytes))
        case .rpc: DecoderTargets.rpc(Array(bytes))
        case .session: DecoderTargets.session(Array(bytes))
        case .record: DecoderTargets.record(Array(bytes))
        case .discovery: DecoderTargets.discovery(Array(bytes))
        case .framers: DecoderTargets.framers(Array(bytes))
        case .stream: DecoderTargets.stream(Array(bytes))
        case .streamPair: StreamPair.run(bytes)
        case .keyfile: DecoderTargets.keyFile(Array(bytes))
        case .mdns: DecoderTargets.mdns(Array(bytes))
        case .mdnsCore: DecoderTargets.mdnsCore(Array(bytes))
        case .sessionCore: CoreTargets.sessionEndpoint(bytes)
        case .peerCore: CoreTargets.peerCore(bytes)
        case .membershipCore: CoreTargets.membershipCore(bytes)
        case .nodeCore: CoreTargets.nodeCore(bytes)
        }
    }
}
