import Foundation
import Testing

@testable import Starling

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite struct SwarmGraphTests {
    /// What an SVG document holds, as read back by `XMLParser`.
    struct ParsedSVG {
        var root: String?
        var circles: [[String: String]] = []
        var lines: [[String: String]] = []
        var texts: [String] = []
    }

    /// Parses `svg`, recording an issue if it is not well-formed XML.
    final class SVGReader: NSObject, XMLParserDelegate {
        var parsed = ParsedSVG()
        private var textDepth = 0
        private var currentText = ""

        static func read(_ svg: String) -> ParsedSVG? {
            let reader = SVGReader()
            let parser = XMLParser(data: Data(svg.utf8))
            parser.delegate = reader
            guard parser.parse() else {
                Issue.record("not well-formed: \(String(describing: parser.parserError))")
                return nil
            }
            return reader.parsed
        }

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
            qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
        ) {
            if parsed.root == nil { parsed.root = elementName }
            switch elementName {
            case "circle": parsed.circles.append(attributeDict)
            case "line": parsed.lines.append(attributeDict)
            case "text":
                textDepth += 1
                currentText = ""
            default: break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if textDepth > 0 { currentText += string }
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
        ) {
            if elementName == "text" {
                textDepth -= 1
                parsed.texts.append(currentText)
            }
        }
    }

    /// Heading plus one legend entry per state: the `<text>` elements that are not labels.
    static let fixedTextCount = 1 + SwarmGraph.NodeState.allCases.count

    static func nodes(_ count: Int) -> [SwarmGraph.Node] {
        let states = SwarmGraph.NodeState.allCases
        return (0..<count).map { SwarmGraph.Node(label: "p\(1000 + $0)", state: states[$0 % states.count]) }
    }

    /// `count` pseudo-random edges over `nodeCount` nodes, the same every run.
    static func edges(_ count: Int, over nodeCount: Int) -> [(Int, Int)] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let a = Int((state >> 33) % UInt64(nodeCount))
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let b = Int((state >> 33) % UInt64(nodeCount))
            return (a, b)
        }
    }

    @Test func init_selfLoopsAndRepeats_areDroppedAndCounted() throws {
        let graph = try SwarmGraph(
            nodes: Self.nodes(5), edges: [(0, 1), (1, 0), (2, 2), (1, 2), (3, 4), (4, 3), (0, 1)]
        )
        #expect(graph.edges == [SwarmGraph.Edge(0, 1), SwarmGraph.Edge(1, 2), SwarmGraph.Edge(3, 4)])
        #expect(graph.droppedEdgeCount == 4)
    }

    @Test func init_edgeIndexOutOfRange_throws() {
        #expect(throws: SwarmGraphError.edgeIndexOutOfRange(edge: 1, first: 0, second: 3, nodeCount: 3)) {
            try SwarmGraph(nodes: Self.nodes(3), edges: [(0, 1), (0, 3)])
        }
        #expect(throws: SwarmGraphError.edgeIndexOutOfRange(edge: 0, first: -1, second: 2, nodeCount: 3)) {
            try SwarmGraph(nodes: Self.nodes(3), edges: [(-1, 2)])
        }
        #expect(throws: SwarmGraphError.edgeIndexOutOfRange(edge: 0, first: 0, second: 0, nodeCount: 0)) {
            try SwarmGraph(nodes: [], edges: [(0, 0)])
        }
    }

    @Test func svg_isWellFormedWithOneCirclePerNodeAndOneLinePerEdge() throws {
        let graph = try SwarmGraph(nodes: Self.nodes(6), edges: [(0, 1), (1, 0), (2, 2), (1, 2), (3, 4), (5, 0)])
        let parsed = try #require(SVGReader.read(graph.svg()))
        #expect(parsed.root == "svg")
        #expect(parsed.circles.count == 6)
        #expect(parsed.lines.count == 4)
        #expect(parsed.texts.count == 6 + Self.fixedTextCount)
        #expect(parsed.texts.contains("Starling swarm: 6 nodes, 4 edges"))
        #expect(parsed.texts.contains("alive 2"))
        #expect(parsed.texts.contains("left 1"))
    }

    @Test func svg_hybridRoles_colourAliveNodesByRoleWithALegend() throws {
        let nodes = [
            SwarmGraph.Node(label: "i1", state: .alive, role: .index),
            SwarmGraph.Node(label: "i2", state: .alive, role: .index),
            SwarmGraph.Node(label: "c1", state: .alive, role: .client),
            SwarmGraph.Node(label: "c2", state: .alive, role: .client),
            SwarmGraph.Node(label: "c3", state: .alive, role: .client),
            SwarmGraph.Node(label: "c4", state: .failed, role: .client),
        ]
        let graph = try SwarmGraph(nodes: nodes, edges: [(0, 2), (1, 3)])
        let parsed = try #require(SVGReader.read(graph.svg()))
        #expect(parsed.circles.count == 6)
        // One fill per role among the alive nodes, the failed node keeps its state's.
        let fills = parsed.circles.map { $0["fill"] ?? "" }
        #expect(fills[0] == fills[1] && fills[2] == fills[3] && fills[3] == fills[4])
        #expect(Set([fills[0], fills[2], fills[5]]).count == 3)
        #expect(parsed.texts.contains("index 2"))
        #expect(parsed.texts.contains("client 3"))
        #expect(parsed.texts.contains("failed 1"))
        #expect(!parsed.texts.contains { $0.hasPrefix("alive ") })
        #expect(!parsed.texts.contains { $0.hasPrefix("peer ") })
    }

    @Test func svg_pureOverlay_keepsTheStateLegend() throws {
        let graph = try SwarmGraph(nodes: Self.nodes(4), edges: [])
        let parsed = try #require(SVGReader.read(graph.svg()))
        #expect(parsed.texts.contains("alive 1"))
        #expect(!parsed.texts.contains { $0.hasPrefix("index ") || $0.hasPrefix("client ") })
    }

    @Test func svg_nodesAndEdges_stayInsideTheImage() throws {
        let graph = try SwarmGraph(nodes: Self.nodes(40), edges: Self.edges(120, over: 40))
        let parsed = try #require(SVGReader.read(graph.svg(width: 640, height: 480)))
        for circle in parsed.circles {
            let x = try #require(circle["cx"].flatMap(Double.init))
            let y = try #require(circle["cy"].flatMap(Double.init))
            #expect((0...640).contains(x) && (0...480).contains(y))
        }
        for line in parsed.lines {
            for (key, limit) in [("x1", 640.0), ("x2", 640), ("y1", 480), ("y2", 480)] {
                let value = try #require(line[key].flatMap(Double.init))
                #expect((0...limit).contains(value))
            }
        }
    }

    @Test func svg_labels_areEscaped() throws {
        let label = "<&>\"'\u{1}x"
        let graph = try SwarmGraph(nodes: [SwarmGraph.Node(label: label, state: .suspect)], edges: [])
        let svg = graph.svg()
        #expect(svg.contains("&lt;&amp;&gt;&quot;&apos;\u{FFFD}x"))
        #expect(!svg.contains("<&>"))
        let parsed = try #require(SVGReader.read(svg))
        #expect(parsed.texts.contains("<&>\"'\u{FFFD}x"))
        #expect(parsed.circles.count == 1)
    }

    @Test func svg_moreThan100Nodes_omitsLabels() throws {
        let small = try #require(SVGReader.read(SwarmGraph(nodes: Self.nodes(100), edges: []).svg()))
        #expect(small.texts.count == 100 + Self.fixedTextCount)
        let large = try #require(SVGReader.read(SwarmGraph(nodes: Self.nodes(101), edges: []).svg()))
        #expect(large.texts.count == Self.fixedTextCount)
        #expect(large.circles.count == 101)
    }

    @Test func svg_sameGraph_givesTheSameDocument() throws {
        let first = try SwarmGraph(nodes: Self.nodes(60), edges: Self.edges(200, over: 60))
        let second = try SwarmGraph(nodes: Self.nodes(60), edges: Self.edges(200, over: 60))
        #expect(first.svg() == second.svg())
        #expect(first.svg(width: 300, height: 200) == first.svg(width: 300, height: 200))
    }

    @Test func svg_emptyAndSingleNodeGraphs_areWellFormed() throws {
        let empty = try #require(SVGReader.read(SwarmGraph(nodes: [], edges: []).svg()))
        #expect(empty.circles.isEmpty && empty.lines.isEmpty)
        let tiny = try SwarmGraph(nodes: Self.nodes(1), edges: []).svg(width: 10, height: -5)
        #expect(tiny.contains("width=\"200\" height=\"200\" viewBox=\"0 0 200 200\""))
        let single = try #require(SVGReader.read(tiny))
        #expect(single.circles.count == 1)
        let x = try #require(single.circles.first?["cx"].flatMap(Double.init))
        let y = try #require(single.circles.first?["cy"].flatMap(Double.init))
        #expect((0...200).contains(x) && (0...200).contains(y))
    }

    @Test func svg_500NodesAnd5000Edges_renders() throws {
        let input = Self.edges(5000, over: 500)
        let graph = try SwarmGraph(nodes: Self.nodes(500), edges: input)
        #expect(graph.edges.count + graph.droppedEdgeCount == 5000)
        let parsed = try #require(SVGReader.read(graph.svg()))
        #expect(parsed.circles.count == 500)
        #expect(parsed.lines.count == graph.edges.count)
        #expect(parsed.texts.count == Self.fixedTextCount)
    }

    @Test func escapeXML_passesOrdinaryTextThrough() {
        #expect(SwarmGraph.escapeXML("a1b2c3 ünï 🐦") == "a1b2c3 ünï 🐦")
        #expect(SwarmGraph.escapeXML("a&&b") == "a&amp;&amp;b")
    }
}
