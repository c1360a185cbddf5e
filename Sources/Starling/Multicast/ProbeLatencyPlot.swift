#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One-way latency over time for each probe sender, drawn as a standalone SVG image
/// (`starling mcast listen --plot FILE.svg`).
///
/// A plot holds one ``Series`` per sender: points of (seconds since the listener's
/// first probe, latency in milliseconds). ``svg(width:height:)`` draws axes with round
/// tick values, one polyline per series in its own colour, and a legend. A series keeps
/// at most ``Series/maximumPoints`` points however long the run: when full, it drops
/// every other point and from then on keeps every second sample (then every fourth…),
/// so a long run is drawn evenly thinned rather than cut short.
public struct ProbeLatencyPlot: Sendable, Equatable {
    /// One sample: when a probe arrived and how long it took.
    public struct Point: Sendable, Equatable {
        /// Seconds since the plot's time origin.
        public var seconds: Double
        /// One-way latency in milliseconds.
        public var milliseconds: Double

        /// Makes a point.
        public init(seconds: Double, milliseconds: Double) {
            self.seconds = seconds
            self.milliseconds = milliseconds
        }
    }

    /// The samples of one sender, evenly thinned to at most ``maximumPoints``.
    public struct Series: Sendable, Equatable {
        /// The most points a series holds; 4,096 is more than a plot's width in pixels.
        public static let maximumPoints = 4_096

        /// The sender's name in the legend, such as its id in hex.
        public let label: String
        /// The kept points, in the order added.
        public private(set) var points: [Point] = []
        /// Every how many offered samples one is kept: 1, then 2, 4… as the series fills.
        public private(set) var stride = 1
        private var offered = 0

        /// Makes an empty series.
        public init(label: String) {
            self.label = label
        }

        /// Offers one sample; it is kept when it falls on the current stride.
        public mutating func add(_ point: Point) {
            defer { offered += 1 }
            guard offered % stride == 0 else { return }
            if points.count == Self.maximumPoints {
                points = points.enumerated().compactMap { $0.offset % 2 == 0 ? $0.element : nil }
                stride *= 2
                guard offered % stride == 0 else { return }
            }
            points.append(point)
        }
    }

    /// The series, in legend order.
    public var series: [Series]

    /// Makes a plot of `series`.
    public init(series: [Series]) {
        self.series = series
    }

    /// The smallest width or height ``svg(width:height:)`` draws at.
    public static let minimumImageSize = 240

    /// Renders the plot as a standalone SVG 1.1 document.
    ///
    /// The document holds one `<polyline>` per series with at least one point, axes as
    /// `<line>`s with labelled ticks, a heading and a legend. With no points at all it
    /// still draws the axes and says so.
    /// - Parameters:
    ///   - width: image width in pixels; values below ``minimumImageSize`` are raised to it.
    ///   - height: image height in pixels; values below ``minimumImageSize`` are raised to it.
    /// - Returns: the document, identical for identical plots and sizes.
    public func svg(width: Int = 900, height: Int = 480) -> String {
        let width = Double(max(width, Self.minimumImageSize))
        let height = Double(max(height, Self.minimumImageSize))
        let frame = (left: 72.0, right: width - 24, top: 64.0, bottom: height - 48)
        let all = series.flatMap(\.points)
        let xAxis = PlotAxis(lower: 0, upper: all.map(\.seconds).max() ?? 1)
        let yAxis = PlotAxis(
            lower: min(0, all.map(\.milliseconds).min() ?? 0), upper: all.map(\.milliseconds).max() ?? 1)
        let x = { (value: Double) in frame.left + (value - xAxis.lower) / xAxis.span * (frame.right - frame.left) }
        let y = { (value: Double) in frame.bottom - (value - yAxis.lower) / yAxis.span * (frame.bottom - frame.top) }

        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
        out += "width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">\n"
        let heading = "Starling multicast probe: one-way latency, \(series.count) sender\(series.count == 1 ? "" : "s")"
        out += "<title>\(heading)</title>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"#ffffff\"/>\n"

        out += "<g stroke=\"#dee2e6\" stroke-width=\"0.6\">\n"
        for tick in xAxis.ticks {
            out += Self.line(x(tick), frame.top, x(tick), frame.bottom)
        }
        for tick in yAxis.ticks {
            out += Self.line(frame.left, y(tick), frame.right, y(tick))
        }
        out += "</g>\n"
        out += "<g stroke=\"#1a202c\" stroke-width=\"1\">\n"
        out += Self.line(frame.left, frame.bottom, frame.right, frame.bottom)
        out += Self.line(frame.left, frame.top, frame.left, frame.bottom)
        out += "</g>\n"

        out += "<g font-family=\"sans-serif\" font-size=\"11\" fill=\"#1a202c\">\n"
        for tick in xAxis.ticks {
            out += "<text x=\"\(Self.number(x(tick)))\" y=\"\(Self.number(frame.bottom + 16))\" "
            out += "text-anchor=\"middle\">\(xAxis.label(tick))</text>\n"
        }
        for tick in yAxis.ticks {
            out += "<text x=\"\(Self.number(frame.left - 6))\" y=\"\(Self.number(y(tick) + 4))\" "
            out += "text-anchor=\"end\">\(yAxis.label(tick))</text>\n"
        }
        out += "<text x=\"\(Self.number((frame.left + frame.right) / 2))\" y=\"\(Self.number(height - 12))\" "
        out += "text-anchor=\"middle\">seconds since the first probe</text>\n"
        out += "<text x=\"16\" y=\"\(Self.number((frame.top + frame.bottom) / 2))\" text-anchor=\"middle\" "
        out += "transform=\"rotate(-90 16 \(Self.number((frame.top + frame.bottom) / 2)))\">latency (ms)</text>\n"
        out += "</g>\n"

        for (index, one) in series.enumerated() where !one.points.isEmpty {
            let coordinates = one.points.map { "\(Self.number(x($0.seconds))),\(Self.number(y($0.milliseconds)))" }
            out += "<polyline fill=\"none\" stroke=\"\(Self.colour(index))\" stroke-width=\"1.2\" "
            out += "points=\"\(coordinates.joined(separator: " "))\">"
            out += "<title>\(SwarmGraph.escapeXML(one.label))</title></polyline>\n"
        }

        out += "<g font-family=\"sans-serif\" fill=\"#1a202c\">\n"
        out += "<text x=\"\(Int(frame.left))\" y=\"24\" font-size=\"15\">\(heading)</text>\n"
        if all.isEmpty {
            out += "<text x=\"\(Self.number((frame.left + frame.right) / 2))\" "
            out += "y=\"\(Self.number((frame.top + frame.bottom) / 2))\" font-size=\"13\" "
            out += "text-anchor=\"middle\">no probes received</text>\n"
        }
        var legendX = frame.left
        for (index, one) in series.enumerated() {
            out += "<rect x=\"\(Self.number(legendX))\" y=\"36\" width=\"10\" height=\"10\" "
            out += "fill=\"\(Self.colour(index))\"/>\n"
            out += "<text x=\"\(Self.number(legendX + 14))\" y=\"45\" font-size=\"11\">"
            out += "\(SwarmGraph.escapeXML(one.label))</text>\n"
            legendX += 150
        }
        out += "</g>\n"
        out += "</svg>\n"
        return out
    }

    private static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double) -> String {
        "<line x1=\"\(number(x1))\" y1=\"\(number(y1))\" x2=\"\(number(x2))\" y2=\"\(number(y2))\"/>\n"
    }

    /// A coordinate with one decimal place, the same text on every platform.
    private static func number(_ value: Double) -> String {
        SwarmNumberText.fixed(value, fractionDigits: 1)
    }

    /// The colour of the series at `index`: eight distinct hues, then again.
    private static func colour(_ index: Int) -> String {
        let palette = ["#1c7ed6", "#e03131", "#2f9e44", "#f08c00", "#7048e8", "#0c8599", "#c2255c", "#495057"]
        return palette[index % palette.count]
    }
}

/// One axis of a ``ProbeLatencyPlot``: a range widened to round numbers, and its ticks.
struct PlotAxis: Equatable {
    /// The lowest value drawn.
    let lower: Double
    /// The highest value drawn (above `lower`).
    let upper: Double
    /// The distance between ticks: 1, 2 or 5 times a power of ten.
    let step: Double

    /// An axis covering `lower...upper` with about five ticks; an empty or reversed
    /// range is widened to one unit.
    init(lower: Double, upper: Double) {
        let span = upper > lower && (upper - lower).isFinite ? upper - lower : 1
        step = Self.niceStep(span / 5)
        self.lower = (lower / step).rounded(.down) * step
        let top = (upper / step).rounded(.up) * step
        self.upper = top > self.lower ? top : self.lower + step
    }

    /// `upper − lower`.
    var span: Double { upper - lower }

    /// The tick values from `lower` to `upper`.
    var ticks: [Double] {
        let count = Int((span / step).rounded())
        return (0...max(count, 1)).map { lower + Double($0) * step }
    }

    /// A tick's text, with as many decimals as the step needs.
    func label(_ value: Double) -> String {
        // 0.5 and 0.2 need one decimal, 0.05 two; the epsilon keeps 0.01 at two, not three.
        let digits = step >= 1 ? 0 : min(9, Int((-log10(step) - 1e-9).rounded(.up)))
        return SwarmNumberText.fixed(value, fractionDigits: digits)
    }

    /// The smallest of 1, 2 or 5 times a power of ten that is at least `rough`.
    static func niceStep(_ rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        var power = 1.0
        while power > rough { power /= 10 }
        while power * 10 <= rough { power *= 10 }
        for factor in [1.0, 2, 5, 10] where power * factor >= rough {
            return power * factor
        }
        return power * 10
    }
}
