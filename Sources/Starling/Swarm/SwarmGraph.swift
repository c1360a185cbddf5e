public import StarlingCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A picture of a swarm's overlay: who is connected to whom, and what each member thinks of
/// the others' health, drawn as a standalone SVG image.
///
/// A graph holds ``Node``s (a short label, such as the first six characters of a peer ID,
/// and a ``NodeState``) and undirected ``Edge``s between them, named by node index.
/// Building one is strict about what cannot be drawn and lenient about what is merely
/// redundant:
///
/// - An edge naming a node index outside `0..<nodes.count` is an error:
///   ``init(nodes:edges:)`` throws ``SwarmGraphError/edgeIndexOutOfRange(edge:first:second:nodeCount:)``,
///   because such an edge means the caller's bookkeeping is wrong.
/// - Self-loops and repeated edges (in either direction) are dropped and counted in
///   ``droppedEdgeCount``; an overlay view naturally reports each link from both ends.
///
/// ``svg(width:height:)`` lays the graph out with a force-directed layout whose starting
/// positions and iteration count are fixed, so the same graph always yields the same
/// document. The work is bounded: the iteration count shrinks as the graph grows, and a
/// graph of 500 nodes and 5,000 edges renders in well under a second.
public struct SwarmGraph: Sendable, Equatable {
    /// What the drawing peer believes about a member.
    public enum NodeState: String, Sendable, Equatable, CaseIterable {
        /// Answering probes.
        case alive
        /// Missed probes; others are being asked to confirm it is gone.
        case suspect
        /// Declared dead after suspicion ran out.
        case failed
        /// Announced its own departure.
        case left
    }

    /// One member of the swarm.
    public struct Node: Sendable, Equatable {
        /// Short text drawn next to the node, for example the first six characters of its
        /// peer ID. Any characters are allowed; they are escaped for XML.
        public var label: String
        /// What the drawing peer believes about this member; it picks the colour of a
        /// node that is not alive.
        public var state: NodeState
        /// The role the member holds in its topology; it picks the colour of a node that
        /// is alive (a pure overlay's `TopologyRole.peer` keeps the alive colour).
        public var role: TopologyRole

        /// Makes a node with a label, a state and a role (default a pure overlay's peer).
        public init(label: String, state: NodeState, role: TopologyRole = .peer) {
            self.label = label
            self.state = state
            self.role = role
        }
    }

    /// An undirected link between two distinct nodes, stored with the smaller index first.
    public struct Edge: Sendable, Hashable {
        /// The smaller of the two node indices.
        public let first: Int
        /// The larger of the two node indices.
        public let second: Int

        /// Makes the edge between `a` and `b`, in whichever order they are given.
        public init(_ a: Int, _ b: Int) {
            first = min(a, b)
            second = max(a, b)
        }
    }

    /// The members, in the order given; an edge names them by index in this array.
    public let nodes: [Node]
    /// The distinct edges, without self-loops, in the order they were first given.
    public let edges: [Edge]
    /// How many of the given edges were dropped as self-loops or repeats.
    public let droppedEdgeCount: Int

    /// Makes a graph from nodes and index pairs.
    ///
    /// - Parameters:
    ///   - nodes: The members; their order fixes their indices.
    ///   - edges: Pairs of node indices. The order within a pair does not matter. Self-loops
    ///     and repeats are dropped and counted in ``droppedEdgeCount``.
    /// - Throws: ``SwarmGraphError/edgeIndexOutOfRange(edge:first:second:nodeCount:)`` for the
    ///   first pair that names an index outside `0..<nodes.count`.
    public init(nodes: [Node], edges: [(Int, Int)]) throws(SwarmGraphError) {
        var seen = Set<Edge>()
        var kept: [Edge] = []
        kept.reserveCapacity(edges.count)
        var dropped = 0
        for (position, (a, b)) in edges.enumerated() {
            guard nodes.indices.contains(a), nodes.indices.contains(b) else {
                throw .edgeIndexOutOfRange(edge: position, first: a, second: b, nodeCount: nodes.count)
            }
            let edge = Edge(a, b)
            if a == b || !seen.insert(edge).inserted {
                dropped += 1
            } else {
                kept.append(edge)
            }
        }
        self.nodes = nodes
        self.edges = kept
        self.droppedEdgeCount = dropped
    }

    /// Graphs with at most this many nodes have their labels drawn; larger ones only carry
    /// them as hover titles, since the text would overlap into an unreadable mass.
    public static let maximumLabelledNodeCount = 100

    /// The smallest width or height ``svg(width:height:)`` draws at; the title and legend
    /// need this much room.
    public static let minimumImageSize = 200

    /// Renders the graph as a standalone SVG 1.1 document.
    ///
    /// Edges are thin translucent lines, fainter as they grow more numerous. Nodes are
    /// circles filled by state, and those alive by role (index servers and clients of a
    /// hybrid overlay get colours of their own), each with a `<title>` naming it. Labels are drawn to the right
    /// of their nodes when there are at most ``maximumLabelledNodeCount`` nodes. A heading gives the node and edge counts and a
    /// legend gives the count of nodes in each state (alive nodes split by hybrid role
    /// when there are any); the legend's swatches are squares, so
    /// the document holds exactly one `<circle>` per node and one `<line>` per edge.
    ///
    /// - Parameters:
    ///   - width: Image width in pixels; values below ``minimumImageSize`` are raised to it.
    ///   - height: Image height in pixels; values below ``minimumImageSize`` are raised to it.
    /// - Returns: The document, identical for identical graphs and sizes.
    public func svg(width: Int = 900, height: Int = 900) -> String {
        let width = max(width, Self.minimumImageSize)
        let height = max(height, Self.minimumImageSize)
        let header = 56.0
        let margin = 24.0
        // Room right of the rightmost node for a six-character label.
        let labelRoom = nodes.count <= Self.maximumLabelledNodeCount ? 32.0 : 0
        let radius = min(8, max(2.5, Double(min(width, height)) / (Double(nodes.count).squareRoot() * 8 + 1)))
        let points = SwarmGraphLayout.place(
            nodeCount: nodes.count,
            edges: edges,
            into: (
                x: margin + radius, y: header + radius,
                width: Double(width) - 2 * (margin + radius) - labelRoom,
                height: Double(height) - header - margin - 2 * radius
            )
        )

        var out = ""
        out.reserveCapacity(600 + edges.count * 72 + nodes.count * 160)
        out += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
        out += "width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">\n"
        let heading = "Starling swarm: \(nodes.count) nodes, \(edges.count) edges"
        out += "<title>\(heading)</title>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"

        // Dense graphs get fainter edges, so that the nodes stay visible through them.
        let edgeOpacity = max(0.08, 0.35 * min(1, (400 / Double(max(edges.count, 1))).squareRoot()))
        out += "<g stroke=\"#4a5568\" stroke-opacity=\"\(SwarmNumberText.fixed(edgeOpacity, fractionDigits: 2))\" "
        out += "stroke-width=\"0.7\">\n"
        for edge in edges {
            let from = points[edge.first]
            let to = points[edge.second]
            out += "<line x1=\"\(Self.coordinate(from.x))\" y1=\"\(Self.coordinate(from.y))\" "
            out += "x2=\"\(Self.coordinate(to.x))\" y2=\"\(Self.coordinate(to.y))\"/>\n"
        }
        out += "</g>\n"

        out += "<g stroke=\"#1a202c\" stroke-width=\"0.6\">\n"
        let r = Self.coordinate(radius)
        for (node, point) in zip(nodes, points) {
            out += "<circle cx=\"\(Self.coordinate(point.x))\" cy=\"\(Self.coordinate(point.y))\" r=\"\(r)\" "
            out += "fill=\"\(Self.colour(node))\">"
            let role = node.role == .peer ? "" : "\(node.role), "
            out += "<title>\(Self.escapeXML(node.label)) (\(role)\(node.state.rawValue))</title></circle>\n"
        }
        out += "</g>\n"

        if nodes.count <= Self.maximumLabelledNodeCount {
            out += "<g font-family=\"monospace\" font-size=\"9\" fill=\"#1a202c\">\n"
            for (node, point) in zip(nodes, points) {
                let x = Self.coordinate(point.x + radius + 2)
                let y = Self.coordinate(point.y + 3)
                out += "<text x=\"\(x)\" y=\"\(y)\">\(Self.escapeXML(node.label))</text>\n"
            }
            out += "</g>\n"
        }

        out += "<g font-family=\"sans-serif\" fill=\"#1a202c\">\n"
        out += "<text x=\"\(Int(margin))\" y=\"24\" font-size=\"15\">\(heading)</text>\n"
        var legendX = Int(margin)
        for (name, colour, count) in legend() {
            out += "<rect x=\"\(legendX)\" y=\"34\" width=\"10\" height=\"10\" fill=\"\(colour)\"/>\n"
            out += "<text x=\"\(legendX + 14)\" y=\"43\" font-size=\"11\">\(name) \(count)</text>\n"
            legendX += 96
        }
        out += "</g>\n"
        out += "</svg>\n"
        return out
    }

    /// Replaces the characters XML gives meaning to with entities, and characters XML 1.0
    /// cannot carry at all (most control characters) with U+FFFD.
    static func escapeXML(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            case "\u{0}"..."\u{1F}", "\u{FFFE}", "\u{FFFF}": escaped += "\u{FFFD}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// A coordinate with one decimal place, written without Foundation so that the text is
    /// the same on every platform.
    private static func coordinate(_ value: Double) -> String {
        SwarmNumberText.fixed(value, fractionDigits: 1)
    }

    /// The legend's entries: every state with its count, and for a hybrid overlay the
    /// alive nodes split by role instead of one `alive` entry.
    private func legend() -> [(name: String, colour: String, count: Int)] {
        let hybrid = nodes.contains { $0.role != .peer }
        var entries: [(name: String, colour: String, count: Int)] = []
        for state in NodeState.allCases {
            if state == .alive, hybrid {
                for role in TopologyRole.allCases {
                    let count = nodes.lazy.filter { $0.state == .alive && $0.role == role }.count
                    guard count > 0 || role != .peer else { continue }
                    entries.append((role.rawValue, Self.colour(role), count))
                }
                continue
            }
            entries.append((state.rawValue, Self.colour(state), nodes.lazy.filter { $0.state == state }.count))
        }
        return entries
    }

    /// A node's fill: its role's colour when alive, else its state's.
    private static func colour(_ node: Node) -> String {
        node.state == .alive ? colour(node.role) : colour(node.state)
    }

    /// A role's colour; a pure overlay's peer keeps the alive colour.
    private static func colour(_ role: TopologyRole) -> String {
        switch role {
        case .peer: colour(NodeState.alive)
        case .index, .superPeer: "#7048e8"
        case .client, .leaf: "#1c7ed6"
        }
    }

    private static func colour(_ state: NodeState) -> String {
        switch state {
        case .alive: "#2f9e44"
        case .suspect: "#f59f00"
        case .failed: "#e03131"
        case .left: "#adb5bd"
        }
    }
}

/// Why a ``SwarmGraph`` could not be made.
public enum SwarmGraphError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The edge at position `edge` of the input names a node index outside `0..<nodeCount`.
    case edgeIndexOutOfRange(edge: Int, first: Int, second: Int, nodeCount: Int)

    public var description: String {
        switch self {
        case .edgeIndexOutOfRange(let edge, let first, let second, let nodeCount):
            "edge \(edge) joins nodes \(first) and \(second), but the graph has \(nodeCount) nodes"
        }
    }
}

/// The force-directed layout behind ``SwarmGraph/svg(width:height:)``: Fruchterman and
/// Reingold's spring model, started from a sunflower spiral instead of random positions so
/// that the result is deterministic.
enum SwarmGraphLayout {
    /// Upper bound on pair visits (repulsion pairs plus edges, summed over iterations); it
    /// keeps a 500-node, 5,000-edge layout to about 3 million steps.
    static let workBudget = 3_000_000
    /// Fewest and most iterations run, whatever the budget allows.
    static let iterationRange = 12...80

    /// Positions for `nodeCount` nodes, scaled to fill `box` with the aspect ratio kept.
    static func place(
        nodeCount: Int,
        edges: [SwarmGraph.Edge],
        into box: (x: Double, y: Double, width: Double, height: Double)
    ) -> [(x: Double, y: Double)] {
        guard nodeCount > 0 else { return [] }
        var xs = [Double](repeating: 0, count: nodeCount)
        var ys = [Double](repeating: 0, count: nodeCount)
        let goldenAngle = Double.pi * (3 - 5.0.squareRoot())
        for index in 0..<nodeCount {
            let distance = 0.5 * ((Double(index) + 0.5) / Double(nodeCount)).squareRoot()
            let angle = Double(index) * goldenAngle
            xs[index] = distance * cos(angle)
            ys[index] = distance * sin(angle)
        }

        let pairWork = nodeCount * (nodeCount - 1) / 2 + edges.count + 1
        let iterations = min(iterationRange.upperBound, max(iterationRange.lowerBound, workBudget / pairWork))
        let k = (1.0 / Double(nodeCount)).squareRoot()
        let kSquared = k * k
        let gravity = 1.5
        var dx = [Double](repeating: 0, count: nodeCount)
        var dy = [Double](repeating: 0, count: nodeCount)
        for iteration in 0..<(nodeCount > 1 ? iterations : 0) {
            for index in 0..<nodeCount {
                dx[index] = -gravity * xs[index] * k
                dy[index] = -gravity * ys[index] * k
            }
            for i in 0..<nodeCount {
                let xi = xs[i]
                let yi = ys[i]
                var fx = 0.0
                var fy = 0.0
                for j in (i + 1)..<nodeCount {
                    let ddx = xi - xs[j]
                    let ddy = yi - ys[j]
                    let squared = max(ddx * ddx + ddy * ddy, 1e-9)
                    let push = kSquared / squared
                    fx += ddx * push
                    fy += ddy * push
                    dx[j] -= ddx * push
                    dy[j] -= ddy * push
                }
                dx[i] += fx
                dy[i] += fy
            }
            for edge in edges {
                let ddx = xs[edge.first] - xs[edge.second]
                let ddy = ys[edge.first] - ys[edge.second]
                let pull = (ddx * ddx + ddy * ddy).squareRoot() / k
                dx[edge.first] -= ddx * pull
                dy[edge.first] -= ddy * pull
                dx[edge.second] += ddx * pull
                dy[edge.second] += ddy * pull
            }
            let temperature = 0.1 * (1 - Double(iteration) / Double(iterations))
            for index in 0..<nodeCount {
                let length = (dx[index] * dx[index] + dy[index] * dy[index]).squareRoot()
                guard length > 0 else { continue }
                let step = min(length, temperature) / length
                xs[index] += dx[index] * step
                ys[index] += dy[index] * step
            }
        }

        let minX = xs.min()!
        let maxX = xs.max()!
        let minY = ys.min()!
        let maxY = ys.max()!
        let spanX = maxX - minX
        let spanY = maxY - minY
        let scale = min(box.width / max(spanX, 1e-9), box.height / max(spanY, 1e-9))
        let offsetX = box.x + (box.width - spanX * scale) / 2
        let offsetY = box.y + (box.height - spanY * scale) / 2
        return (0..<nodeCount).map { index in
            (x: offsetX + (xs[index] - minX) * scale, y: offsetY + (ys[index] - minY) * scale)
        }
    }
}
