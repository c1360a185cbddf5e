import Starling
import StarlingCore

/// The HTML page of `GET /`: this peer and a table of the members it knows. No script;
/// the browser reloads it every 5 seconds.
enum NeighboursPage {
    static func html(peer: Peer, members: [Member]) -> String {
        let rows = members.map { member in
            "<tr class=\"\(member.state)\"><td><code>\(escape(member.id.description))</code></td>"
                + "<td>\(escape(member.address.description))</td><td>\(member.state)</td></tr>"
        }
        let table =
            rows.isEmpty
            ? "<p>No neighbours yet: start another peer with <code>--seed \(escape(peer.address.description))</code>.</p>"
            : """
            <table>
            <thead><tr><th>Peer ID</th><th>Address</th><th>State</th></tr></thead>
            <tbody>
            \(rows.joined(separator: "\n"))
            </tbody>
            </table>
            """
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="refresh" content="5">
            <title>Starling neighbours</title>
            <style>
            body { font-family: sans-serif; margin: 2em; }
            table { border-collapse: collapse; }
            th, td { padding: 0.3em 0.8em; text-align: left; border-bottom: 1px solid #ccc; }
            tr.suspect td { color: #a60; }
            tr.dead td, tr.left td { color: #999; }
            </style>
            </head>
            <body>
            <h1>Starling neighbours</h1>
            <p>This peer: <code>\(escape(peer.id.description))</code> at \(escape(peer.address.description))</p>
            \(table)
            <p><a href="/neighbours">JSON</a> · <a href="/metrics">metrics</a></p>
            </body>
            </html>

            """
    }

    /// `text` with the characters that HTML gives a meaning replaced by entities.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
