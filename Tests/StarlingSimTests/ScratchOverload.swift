import StarlingCore
import Testing
@testable import StarlingSim

@Suite struct ScratchOverload {
    @Test func scratch() throws {
        var (network, hostID) = try MembershipOverloadSimulationTests.joiningSwarm(seed: 4, count: 200, host: SimHost(cores: 2))
        let nodes = network.nodeIDs
        var line = "light:"
        for step in 1...20 {
            network.run(for: .milliseconds(100))
            let minAlive = nodes.map { network[core: $0].aliveCount }.min() ?? 0
            let ff = MembershipSimulationTests.falseFailures(network, live: nodes)
            line += " t\(step) min\(minAlive) ff\(ff) s\(MembershipOverloadSimulationTests.suspicions(network))"
        }
        print(line, network.statistics(of: hostID))
        var plain = try MembershipSimulationTests.network(seed: 4, count: 200, link: MembershipOverloadSimulationTests.loopback, configuration: .local)
        let seed = [plain.address(of: plain.nodeIDs[0])]
        for node in plain.nodeIDs.dropFirst() { plain.command(node) { core, now in core.join(seed, now: now) } }
        plain.run(for: .seconds(2))
        print("plain suspicions", MembershipOverloadSimulationTests.suspicions(plain))
    }
}
