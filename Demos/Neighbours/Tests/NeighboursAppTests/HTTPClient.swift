import NIOCore
import NIOPosix

/// An HTTP response as the tests read it.
struct HTTPResult: Sendable {
    /// The status code.
    var status: Int
    /// The header fields, names in lower case.
    var headers: [String: String]
    /// The body, as UTF-8 text.
    var body: String
}

/// Why a response could not be read.
struct HTTPClientError: Error, CustomStringConvertible {
    var description: String
}

/// A minimal HTTP/1.1 client for the tests: one GET per connection (`Connection: close`),
/// read to the end of the stream (no chunked bodies: the app sends a Content-Length).
enum HTTPClient {
    /// GETs `path` from `base` (`http://host:port`).
    static func get(_ path: String, from base: String, on group: any EventLoopGroup) async throws -> HTTPResult {
        let (host, port) = try parse(base)
        let channel = try await ClientBootstrap(group: group).connect(host: host, port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        var received = ByteBuffer()
        try await channel.executeThenClose { inbound, outbound in
            let request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n\r\n"
            try await outbound.write(ByteBuffer(string: request))
            for try await var chunk in inbound {
                received.writeBuffer(&chunk)
            }
        }
        return try response(String(buffer: received))
    }

    /// The host and port of `http://host:port`.
    private static func parse(_ base: String) throws -> (String, Int) {
        guard base.hasPrefix("http://"), let colon = base.lastIndex(of: ":"),
            let port = Int(base[base.index(after: colon)...])
        else { throw HTTPClientError(description: "not an http://host:port URL: \(base)") }
        let host = base[base.index(base.startIndex, offsetBy: 7)..<colon]
        return (String(host.trimmingPrefix("[").prefix(while: { $0 != "]" })), port)
    }

    /// The status line, header fields and body of `text`.
    private static func response(_ text: String) throws -> HTTPResult {
        guard let end = text.firstRange(of: "\r\n\r\n") else {
            throw HTTPClientError(description: "no end of header in \(text.debugDescription)")
        }
        let lines = text[..<end.lowerBound].split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw HTTPClientError(description: "no status line in \(text.debugDescription)")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            headers[name] = String(line[line.index(after: colon)...].drop(while: { $0 == " " }))
        }
        let body = String(text[end.upperBound...])
        if let length = headers["content-length"].flatMap({ Int($0) }), body.utf8.count != length {
            throw HTTPClientError(description: "body of \(body.utf8.count) bytes, Content-Length \(length)")
        }
        return HTTPResult(status: status, headers: headers, body: body)
    }
}
