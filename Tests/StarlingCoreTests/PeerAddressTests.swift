import Testing

@testable import StarlingCore

@Suite struct PeerAddressTests {
    @Test(arguments: ["127.0.0.1:4000", "10.1.2.3:0", "[::1]:65535", "[2001:db8::7]:80", "[::ffff:1.2.3.4]:9"])
    func parse_print_roundTrips(text: String) throws {
        #expect(try PeerAddress(text).description == text)
    }

    @Test func parse_ipv4_bytesAndLoopback() throws {
        let address = try PeerAddress("127.1.2.3:4000")
        #expect(address.hostBytes == [127, 1, 2, 3])
        #expect(address.port == 4000)
        #expect(address.isLoopback)
        #expect(try PeerAddress("[::1]:1").isLoopback)
        #expect(try !PeerAddress("128.0.0.1:1").isLoopback)
    }

    @Test(arguments: [
        ("127.0.0.1", PeerAddress.ParseError.missingPort("127.0.0.1")),
        ("127.0.0.1:65536", .invalidPort("65536")),
        ("127.0.0.1:-1", .invalidPort("-1")),
        ("127.0.0.1:", .invalidPort("")),
        ("127.0.0.1:+1", .invalidPort("+1")),
        ("300.0.0.1:1", .invalidHost("300.0.0.1")),
        ("localhost:1", .invalidHost("localhost")),
        ("[::1]", .missingPort("[::1]")),
        ("[::1:80", .invalidHost("[::1:80")),
        ("[zz::1]:80", .invalidHost("zz::1")),
    ])
    func parse_badInput_isTypedError(text: String, error: PeerAddress.ParseError) {
        #expect(throws: error) { try PeerAddress(text) }
    }

    @Test func parse_bareIPv6_asksForBrackets() {
        #expect(throws: PeerAddress.ParseError.self) { try PeerAddress("::1:80") }
    }
}
