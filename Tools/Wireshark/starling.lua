-- Wireshark dissector for Starling's UDP wire format (docs/PROTOCOL.md, version 0x01).
--
-- Load it for one run:    wireshark -X lua_script:Tools/Wireshark/starling.lua
--                         tshark -X lua_script:Tools/Wireshark/starling.lua -Y starling
-- or for good: copy it into ~/.local/lib/wireshark/plugins/ (Wireshark 3.x and 4.x).
--
-- Starling peers listen on any port, so the dissector is a heuristic one on UDP: it claims
-- a datagram only when its version byte is 0x01, its type is known and the type's fixed
-- fields are plausible. It is also registered on the LAN discovery port 47077 and
-- available under "Decode As…". Ephemeral ports can collide with other protocols' ports;
-- set udp.try_heuristic_first (tshark: -o udp.try_heuristic_first:TRUE) to let Starling see
-- those datagrams first. Another protocol's heuristic may still take a datagram now and
-- then (random key bytes can look like anything); disable that protocol if it does.
--
-- Peers send with UDP GSO, so a capture on the sending host can hold several datagrams in
-- one UDP payload; they are split as the kernel would and shown one by one
-- (starling.gso.segment).
--
-- Everything a stranger can read is decoded: the header, the handshake's cleartext fields
-- (kind, indices, ephemeral key, admission MACs), cookie replies, the transport header,
-- signed peer records, LAN discovery datagrams, and open overlay datagrams (membership,
-- routing, spreading, address checks, index servers, super-peers, groups). Encrypted
-- parts (Noise ciphertexts, transport data, sealed discovery and overlay datagrams) are
-- shown as bytes with their length. A datagram that does not decode as the document
-- says is marked with expert info (malformed), never a Lua error.

local starling = Proto("starling", "Starling overlay protocol")

local VERSION = 1
local DISCOVERY_PORT = 47077

-- Names ----------------------------------------------------------------------------------

local types = {
    [0x01] = "peer record",
    [0x02] = "handshake initiation",
    [0x03] = "handshake response",
    [0x04] = "handshake completion",
    [0x05] = "transport data",
    [0x06] = "beacon",
    [0x07] = "who-has",
    [0x08] = "i-have",
    [0x09] = "overlay",
    [0x0a] = "cookie reply",
}
local handshake_kinds = { [1] = "IK", [2] = "XX", [3] = "IKpsk2", [4] = "XXpsk3" }
local modes = { [0] = "open", [1] = "sealed" }
local families = { [4] = "IPv4", [6] = "IPv6" }
local protocols = {
    [1] = "membership",
    [2] = "routing",
    [3] = "spreading",
    [4] = "address check",
    [5] = "index",
    [6] = "super-peer",
    [7] = "group",
}
local membership_kinds = {
    [1] = "ping",
    [2] = "ping request",
    [3] = "ack",
    [4] = "nack",
    [5] = "push-pull",
    [6] = "gossip",
    [7] = "sync request",
}
local member_states = { [0] = "alive", [1] = "suspect", [2] = "dead", [3] = "left" }
local address_check_kinds = { [1] = "challenge", [2] = "response" }
local routing_kinds = {
    [0x01] = "PING",
    [0x02] = "PONG",
    [0x03] = "FIND_NODE",
    [0x04] = "NODES",
    [0x05] = "FIND_VALUE",
    [0x06] = "VALUE",
    [0x07] = "GET_PROVIDERS",
    [0x08] = "PROVIDERS",
    [0x09] = "ADD_PROVIDER",
    [0x0a] = "ADD_PROVIDER_ACK",
    [0x0b] = "PROVE",
    [0x0c] = "PROOF",
    [0x0d] = "FIND_NAME",
    [0x0e] = "NAME",
    [0x0f] = "STORE_NAME",
    [0x10] = "STORE_NAME_ACK",
}
local spreading_kinds = {
    [1] = "gossip",
    [2] = "query",
    [3] = "query hit",
    [4] = "echo request",
    [5] = "echo reply",
    [6] = "unreachable",
    [7] = "TTL exceeded",
}
local index_kinds = {
    [1] = "register",
    [2] = "registered",
    [3] = "findPeer",
    [4] = "findService",
    [5] = "records",
    [6] = "listIndexes",
    [7] = "indexes",
    [8] = "handoff",
}
local index_statuses = {
    [0] = "stored",
    [1] = "stored partly",
    [2] = "invalid",
    [3] = "stale",
    [4] = "full",
    [5] = "host full",
    [6] = "rate-limited",
}
local super_peer_kinds = {
    [0x01] = "advert",
    [0x02] = "attach",
    [0x03] = "attachReply",
    [0x04] = "filterUpdate",
    [0x05] = "detach",
    [0x06] = "keepalive",
    [0x07] = "relay",
    [0x08] = "superPeerFilter",
    [0x09] = "lookup",
    [0x0a] = "lookupReply",
    [0x0b] = "handoverOffer",
}
local group_kinds = {
    [1] = "report",
    [2] = "members",
    [3] = "link",
    [4] = "unlink",
    [5] = "data",
    [6] = "prune",
    [7] = "ihave",
    [8] = "graft",
    [9] = "lanReport",
}
local name_record_kinds = { [1] = "delegation", [2] = "data" }

-- Fields ---------------------------------------------------------------------------------

local F = {}
local function field(key, constructor, ...)
    F[key] = constructor(...)
end
local U8, U16, U32, U64 = ProtoField.uint8, ProtoField.uint16, ProtoField.uint32, ProtoField.uint64
local BYTES, STR = ProtoField.bytes, ProtoField.string

field("version", U8, "starling.version", "Version", base.HEX)
field("type", U8, "starling.type", "Type", base.HEX, types)
field("peer_text", STR, "starling.peer", "Peer ID (text)")

-- Peer records and addresses, wherever they appear.
field("address", STR, "starling.address", "Address")
field("family", U8, "starling.address.family", "Family", base.HEX, families)
field("ipv4", ProtoField.ipv4, "starling.address.ipv4", "IPv4")
field("ipv6", ProtoField.ipv6, "starling.address.ipv6", "IPv6")
field("port", U16, "starling.address.port", "Port")
field("record_length", U16, "starling.record.length", "Record length")
field("record_format", U8, "starling.record.format", "Record format", base.HEX)
field("record_peer_id", BYTES, "starling.record.peer_id", "Peer ID")
field("record_sequence", U64, "starling.record.sequence", "Sequence")
field("record_expires", ProtoField.absolute_time, "starling.record.expires", "Expires", base.UTC)
field("record_address_count", U8, "starling.record.address_count", "Addresses")
field("record_service_count", U8, "starling.record.service_count", "Services")
field("service", STR, "starling.service", "Service")
field("record_signature", BYTES, "starling.record.signature", "Signature")

-- Sessions.
field("hs_kind", U8, "starling.handshake.kind", "Handshake kind", base.HEX, handshake_kinds)
field("hs_sender", U32, "starling.handshake.sender_index", "Sender index", base.HEX)
field("hs_receiver", U32, "starling.handshake.receiver_index", "Receiver index", base.HEX)
field("hs_noise", BYTES, "starling.handshake.noise", "Noise message")
field("hs_noise_length", U16, "starling.handshake.noise_length", "Noise message length")
field("hs_ephemeral", BYTES, "starling.handshake.ephemeral", "Ephemeral public key")
field("hs_static", BYTES, "starling.handshake.encrypted_static", "Encrypted static key")
field("hs_payload", BYTES, "starling.handshake.payload", "Payload")
field("hs_payload_length", U16, "starling.handshake.payload_length", "Payload length")
field("hs_mac1", BYTES, "starling.handshake.mac1", "mac1")
field("hs_mac2", BYTES, "starling.handshake.mac2", "mac2")
field("hs_cookie", ProtoField.bool, "starling.handshake.has_cookie", "mac2 made with a cookie")
field("cookie_receiver", U32, "starling.cookie.receiver_index", "Receiver index", base.HEX)
field("cookie_nonce", BYTES, "starling.cookie.nonce", "Nonce")
field("cookie_sealed", BYTES, "starling.cookie.encrypted_cookie", "Encrypted cookie and tag")
field("tr_receiver", U32, "starling.transport.receiver_index", "Receiver index", base.HEX)
field("tr_counter", U64, "starling.transport.counter", "Counter")
field("tr_ciphertext", BYTES, "starling.transport.ciphertext", "Ciphertext and tag")
field("tr_length", U16, "starling.transport.ciphertext_length", "Ciphertext length")
field("tr_keepalive", ProtoField.bool, "starling.transport.keepalive", "Keepalive (empty inner message)")

-- LAN discovery.
field("disc_mode", U8, "starling.discovery.mode", "Mode", base.HEX, modes)
field("disc_wanted", BYTES, "starling.discovery.wanted_peer_id", "Wanted peer ID")
field("disc_nonce", BYTES, "starling.discovery.nonce", "Nonce")
field("disc_sealed", BYTES, "starling.discovery.sealed", "Sealed payload and tag")
field("disc_sealed_length", U16, "starling.discovery.sealed_length", "Sealed length")

-- Overlay datagrams.
field("ov_mode", U8, "starling.overlay.mode", "Mode", base.HEX, modes)
field("ov_tag", BYTES, "starling.overlay.swarm_tag", "Swarm tag")
field("ov_protocol", U8, "starling.overlay.protocol", "Protocol", base.HEX, protocols)
field("ov_nonce", BYTES, "starling.overlay.nonce", "Nonce")
field("ov_sealed", BYTES, "starling.overlay.sealed", "Sealed message and tag")
field("ov_sealed_length", U16, "starling.overlay.sealed_length", "Sealed length")
field("ov_message", BYTES, "starling.overlay.message", "Message")

-- Membership.
field("mb_kind", U8, "starling.membership.kind", "Kind", base.HEX, membership_kinds)
field("mb_sequence", U32, "starling.membership.sequence", "Sequence")
field("mb_target", BYTES, "starling.membership.target_id", "Target ID")
field("mb_sender", BYTES, "starling.membership.sender_id", "Sender ID")
field("mb_digest", U64, "starling.membership.digest", "View digest", base.HEX)
field("mb_coordinate", ProtoField.float, "starling.membership.coordinate", "Coordinate value")
field("mb_flags", U8, "starling.membership.flags", "Flags", base.HEX)
field("mb_flag_reply", ProtoField.bool, "starling.membership.flags.reply", "Reply requested", 8, nil, 0x01)
field("mb_flag_join", ProtoField.bool, "starling.membership.flags.join", "Join", 8, nil, 0x02)
field("mb_flag_partial", ProtoField.bool, "starling.membership.flags.partial", "Partial", 8, nil, 0x04)
field("mb_flag_scoped", ProtoField.bool, "starling.membership.flags.scoped", "Scoped", 8, nil, 0x08)
field("mb_record_count", U16, "starling.membership.record_count", "Records")
field("mb_update_count", U8, "starling.membership.update_count", "Updates")
field("mb_level", U8, "starling.membership.level", "Level")
field("mb_bucket", U32, "starling.membership.bucket", "Bucket", base.HEX)
field("mu_state", U8, "starling.membership.update.state", "State", base.HEX, member_states)
field("mu_incarnation", U32, "starling.membership.update.incarnation", "Incarnation")
field("mu_member", BYTES, "starling.membership.update.member", "Member")
field("mu_signature", BYTES, "starling.membership.update.signature", "Signature")
field("mu_accuser", BYTES, "starling.membership.update.accuser", "Accuser")

-- Address check.
field("ac_kind", U8, "starling.address_check.kind", "Kind", base.HEX, address_check_kinds)
field("ac_nonce", BYTES, "starling.address_check.nonce", "Nonce")

-- Routing.
field("rt_kind", U8, "starling.routing.kind", "Kind", base.HEX, routing_kinds)
field("rt_request", U64, "starling.routing.request_id", "Request ID", base.HEX)
field("rt_sender", BYTES, "starling.routing.sender_id", "Sender ID")
field("rt_target", BYTES, "starling.routing.target", "Target key")
field("rt_flag", U8, "starling.routing.flag", "Flag")
field("rt_count", U8, "starling.routing.count", "Count")
field("rt_contact_id", BYTES, "starling.routing.contact_id", "Contact ID")
field("rt_stored", U8, "starling.routing.stored", "Stored")
field("rt_nonce", BYTES, "starling.routing.nonce", "Nonce")
field("rt_padding", BYTES, "starling.routing.padding", "Padding")
field("rt_signature", BYTES, "starling.routing.signature", "Signature")

-- Name records (in routing NAME and STORE_NAME).
field("nm_count", U8, "starling.name.count", "Records in chain")
field("nm_version", U8, "starling.name.version", "Version")
field("nm_zone", BYTES, "starling.name.zone", "Zone")
field("nm_label", STR, "starling.name.label", "Label")
field("nm_sequence", U64, "starling.name.sequence", "Sequence")
field("nm_expires", ProtoField.absolute_time, "starling.name.expires", "Expires", base.UTC)
field("nm_ttl", U32, "starling.name.ttl", "TTL")
field("nm_kind", U8, "starling.name.kind", "Kind", base.HEX, name_record_kinds)
field("nm_delegation", BYTES, "starling.name.delegation", "Delegated zone")
field("nm_peer", BYTES, "starling.name.peer", "Peer")
field("nm_text_key", STR, "starling.name.text_key", "Text key")
field("nm_text_value", STR, "starling.name.text_value", "Text value")
field("nm_signature", BYTES, "starling.name.signature", "Signature")

-- Spreading.
field("sp_kind", U8, "starling.spreading.kind", "Kind", base.HEX, spreading_kinds)
field("sp_id", BYTES, "starling.spreading.id", "Message ID")
field("sp_origin", BYTES, "starling.spreading.origin_id", "Origin ID")
field("sp_responder", BYTES, "starling.spreading.responder_id", "Responder ID")
field("sp_sender", BYTES, "starling.spreading.sender_id", "Sender ID")
field("sp_target", BYTES, "starling.spreading.target_id", "Target ID")
field("sp_reporter", BYTES, "starling.spreading.reporter_id", "Reporter ID")
field("sp_hops", U8, "starling.spreading.hops", "Hops")
field("sp_ttl", U8, "starling.spreading.ttl", "TTL")
field("sp_flags", U8, "starling.spreading.flags", "Flags", base.HEX)
field("sp_payload_length", U16, "starling.spreading.payload_length", "Payload length")
field("sp_payload", BYTES, "starling.spreading.payload", "Payload")
field("sp_signature", BYTES, "starling.spreading.signature", "Signature")
field("sp_identifier", U32, "starling.spreading.identifier", "Identifier", base.HEX)
field("sp_timestamp", U64, "starling.spreading.timestamp", "Timestamp (ns)")
field("sp_subject", U8, "starling.spreading.subject_kind", "Subject kind", base.HEX, spreading_kinds)

-- Index servers.
field("ix_kind", U8, "starling.index.kind", "Kind", base.HEX, index_kinds)
field("ix_request", U32, "starling.index.request_id", "Request ID", base.HEX)
field("ix_lifetime", U16, "starling.index.lifetime", "Lifetime (s)")
field("ix_status", U8, "starling.index.status", "Status", base.HEX, index_statuses)
field("ix_peer", BYTES, "starling.index.peer_id", "Peer ID")
field("ix_count", U8, "starling.index.count", "Count")
field("ix_flags", U8, "starling.index.flags", "Flags", base.HEX)
field("ix_members", U32, "starling.index.members", "Members held")

-- Super-peers.
field("su_kind", U8, "starling.super_peer.kind", "Kind", base.HEX, super_peer_kinds)
field("su_peer", BYTES, "starling.super_peer.peer_id", "Peer ID")
field("su_origin", BYTES, "starling.super_peer.origin_id", "Origin ID")
field("su_target", BYTES, "starling.super_peer.target_id", "Target ID")
field("su_outcome", U8, "starling.super_peer.outcome", "Outcome")
field("su_reason", U8, "starling.super_peer.reason", "Reason")
field("su_count", U8, "starling.super_peer.count", "Count")
field("su_sequence", U64, "starling.super_peer.sequence", "Record sequence")
field("su_candidacy", U32, "starling.super_peer.candidacy", "Candidacy")
field("su_length", U16, "starling.super_peer.length", "Payload length")
field("su_request", U32, "starling.super_peer.request", "Request", base.HEX)
field("su_target_kind", U8, "starling.super_peer.target_kind", "Lookup target", base.HEX,
    { [1] = "peer ID", [2] = "service" })
field("su_score", U32, "starling.super_peer.score", "Score")
field("su_leaves", U16, "starling.super_peer.leaves", "Leaves")
field("su_free", U16, "starling.super_peer.free_slots", "Free slots")
field("su_super_peers", U16, "starling.super_peer.super_peers_counted", "Super-peers counted")
field("su_members", U32, "starling.super_peer.members_counted", "Members counted")
field("su_epoch", U32, "starling.super_peer.role_epoch", "Role epoch")
field("su_advert_sequence", U32, "starling.super_peer.advert_sequence", "Advert sequence")
field("su_flags", U8, "starling.super_peer.flags", "Flags", base.HEX)
field("su_flag_super_peer", ProtoField.bool, "starling.super_peer.flags.super_peer", "Super-peer", 8, nil, 0x01)
field("su_age", U16, "starling.super_peer.age", "Age (0.1 s)")
field("su_filter_log2", U8, "starling.super_peer.filter.log2_bits", "Filter size (log2 bits)")
field("su_filter_hashes", U8, "starling.super_peer.filter.hash_count", "Filter hash count")
field("su_filter_bits", BYTES, "starling.super_peer.filter.bits", "Filter bits")

-- Groups.
field("gr_kind", U8, "starling.group.kind", "Kind", base.HEX, group_kinds)
field("gr_sender", BYTES, "starling.group.sender_id", "Sender ID")
field("gr_id", BYTES, "starling.group.id", "Group ID")
field("gr_count", U8, "starling.group.count", "Count")
field("gr_flags", U8, "starling.group.flags", "Flags", base.HEX)
field("gr_member", BYTES, "starling.group.member_id", "Member ID")
field("gr_origin", BYTES, "starling.group.origin_id", "Origin ID")
field("gr_sequence", U64, "starling.group.sequence", "Sequence")
field("gr_hops", U8, "starling.group.hops", "Hops")
field("gr_nonce", BYTES, "starling.group.nonce", "Nonce")
field("gr_ciphertext", BYTES, "starling.group.ciphertext", "Ciphertext and tag")

-- UDP GSO: several datagrams in one captured UDP payload.
field("gso_segment", U16, "starling.gso.segment", "Datagram in the GSO send")
field("gso_size", U16, "starling.gso.segment_size", "GSO segment size")

-- Anything left undecoded.
field("trailing", BYTES, "starling.trailing", "Trailing bytes")

local field_list = {}
for _, f in pairs(F) do
    field_list[#field_list + 1] = f
end
starling.fields = field_list

local ef_malformed = ProtoExpert.new(
    "starling.malformed", "Malformed Starling datagram", expert.group.MALFORMED, expert.severity.ERROR)
local ef_version = ProtoExpert.new(
    "starling.unsupported_version", "Unsupported Starling version", expert.group.PROTOCOL, expert.severity.WARN)
starling.experts = { ef_malformed, ef_version }

-- The Info column shows the first datagram of a UDP GSO send; the others stay quiet.
local info_quiet = false

local function info_append(pinfo, text)
    if not info_quiet then
        pinfo.cols.info:append(text)
    end
end

local function info_set(pinfo, text)
    if not info_quiet then
        pinfo.cols.info:set(text)
    end
end

-- Reading --------------------------------------------------------------------------------

-- A datagram that breaks a rule is reported by raising { malformed = reason }, caught in
-- the dissector, which adds the expert info. Every read checks the length first.
local function malformed(reason)
    error({ malformed = reason }, 0)
end

local Cursor = {}
Cursor.__index = Cursor

local function cursor(tvb, offset)
    return setmetatable({ tvb = tvb, offset = offset, length = tvb:len() }, Cursor)
end

function Cursor:remaining()
    return self.length - self.offset
end

function Cursor:take(count, what)
    if count < 0 or self.offset + count > self.length then
        malformed("truncated " .. (what or "field") .. ": needs " .. count .. " bytes, "
            .. self:remaining() .. " left")
    end
    local range = self.tvb:range(self.offset, count)
    self.offset = self.offset + count
    return range
end

-- Adds `count` bytes as field `f` under `tree`; returns the range.
function Cursor:add(tree, f, count, what)
    local range = self:take(count, what)
    tree:add(f, range)
    return range
end

function Cursor:u8(tree, f, what)
    return self:add(tree, f, 1, what):uint()
end

function Cursor:u16(tree, f, what)
    return self:add(tree, f, 2, what):uint()
end

function Cursor:u32(tree, f, what)
    return self:add(tree, f, 4, what):uint()
end

function Cursor:u64(tree, f, what)
    return self:add(tree, f, 8, what):uint64()
end

-- Adds the rest (possibly nothing) as field `f`; returns its length.
function Cursor:rest(tree, f)
    local count = self:remaining()
    if count > 0 then
        tree:add(f, self:take(count))
    end
    return count
end

-- A subtree labelled `label` over the next `size` bytes (default: all that is left).
function Cursor:subtree(tree, label, size)
    local available = self:remaining()
    if available < 1 then
        malformed("truncated: no bytes left for " .. label:lower())
    end
    return tree:add(starling, self.tvb:range(self.offset, math.min(size or available, available)), label)
end

function Cursor:finish(tree)
    if self:remaining() > 0 then
        tree:add(F.trailing, self:take(self:remaining()))
        malformed("trailing bytes after the message")
    end
end

-- Text forms -----------------------------------------------------------------------------

local base32_alphabet = "abcdefghijklmnopqrstuvwxyz234567"

-- A peer ID's text form (PROTOCOL.md, "Peer ID text form"): base32, lowercase, no padding.
local function peer_text(range)
    local bytes = range:bytes()
    local out = {}
    local buffer, bits = 0, 0
    for i = 0, bytes:len() - 1 do
        buffer = buffer * 256 + bytes:get_index(i)
        bits = bits + 8
        while bits >= 5 do
            local shift = 2 ^ (bits - 5)
            local index = math.floor(buffer / shift)
            buffer = buffer - index * shift
            bits = bits - 5
            out[#out + 1] = base32_alphabet:sub(index + 1, index + 1)
        end
    end
    if bits > 0 then
        local index = buffer * 2 ^ (5 - bits)
        out[#out + 1] = base32_alphabet:sub(index + 1, index + 1)
    end
    return table.concat(out)
end

-- Adds a 32-byte peer ID as field `f`, with its text form in the label and as starling.peer.
function Cursor:peer(tree, f, what)
    local range = self:take(32, what or "peer ID")
    local text = peer_text(range)
    local item = tree:add(f, range)
    item:append_text(" (" .. text .. ")")
    item:add(F.peer_text, range, text):set_generated()
    return text
end

local function name_of(names, value)
    return names[value] or string.format("unknown 0x%02x", value)
end

-- Parts shared by several messages -------------------------------------------------------

-- family u8, host [4] or [16], port u16 (as in a peer record).
function Cursor:address(tree, label)
    if self:remaining() < 1 then
        malformed("truncated address: no family byte")
    end
    local family_value = self.tvb:range(self.offset, 1):uint()
    local host_size = ({ [4] = 4, [6] = 16 })[family_value]
    if host_size == nil then
        malformed(string.format("unknown address family 0x%02x", family_value))
    end
    local total = 1 + host_size + 2
    local whole = self:take(total, "address")
    local host = whole:range(1, host_size)
    local port = whole:range(1 + host_size, 2):uint()
    local text
    if family_value == 4 then
        text = string.format("%s:%d", tostring(host:ipv4()), port)
    else
        text = string.format("[%s]:%d", tostring(host:ipv6()), port)
    end
    local subtree = tree:add(F.address, whole, text)
    if label then
        subtree:prepend_text(label .. " ")
    end
    subtree:add(F.family, whole:range(0, 1))
    subtree:add(family_value == 4 and F.ipv4 or F.ipv6, host)
    subtree:add(F.port, whole:range(1 + host_size, 2))
    return text
end

-- str8 service name: 1–32 bytes of a-z 0-9 . _ -
function Cursor:service(tree)
    local length = self:take(1, "service length"):uint()
    if length < 1 or length > 32 then
        malformed("service name of " .. length .. " bytes")
    end
    local range = self:take(length, "service name")
    local text = range:string()
    if not text:match("^[a-z0-9._%-]+$") then
        malformed("invalid service name")
    end
    tree:add(F.service, range)
    return text
end

-- A signed peer record: body ‖ signature (PROTOCOL.md, "Peer record").
function Cursor:record(tree, label)
    local start = self.offset
    local subtree = self:subtree(tree, label or "Peer record")
    local format = self:u8(subtree, F.record_format, "record format")
    if format ~= 1 then
        malformed(string.format("unknown record format 0x%02x", format))
    end
    local id = self:peer(subtree, F.record_peer_id)
    self:u64(subtree, F.record_sequence, "record sequence")
    local expires = self:take(8, "record expiry")
    subtree:add(F.record_expires, expires, NSTime.new(expires:uint64():tonumber(), 0))
    local addresses = self:u8(subtree, F.record_address_count, "address count")
    if addresses > 8 then
        malformed("more than 8 addresses in a record")
    end
    for _ = 1, addresses do
        self:address(subtree)
    end
    local services = self:u8(subtree, F.record_service_count, "service count")
    if services > 16 then
        malformed("more than 16 services in a record")
    end
    for _ = 1, services do
        self:service(subtree)
    end
    self:add(subtree, F.record_signature, 64, "record signature")
    subtree:set_len(self.offset - start)
    subtree:append_text(": " .. id)
    return id
end

-- A record preceded by its u16 length (routing).
function Cursor:sized_record(tree)
    local length = self:u16(tree, F.record_length, "record length")
    if length > 795 then
        malformed("record of " .. length .. " bytes")
    end
    local start = self.offset
    self:take(length, "record")
    local inner = cursor(self.tvb:range(0, start + length):tvb(), start)
    inner:record(tree)
    if inner.offset ~= start + length then
        malformed("record length does not match the record")
    end
end

-- Sessions -------------------------------------------------------------------------------

local function noise_parts(c, tree, length, ephemeral, encrypted_static, payload_encrypted)
    if length > 1024 then
        malformed("Noise message of " .. length .. " bytes, over 1024")
    end
    local start = c.offset
    local noise = c:take(length, "Noise message")
    local subtree = tree:add(F.hs_noise, noise)
    subtree:add(F.hs_noise_length, noise, length):set_generated()
    local inner = cursor(c.tvb:range(0, start + length):tvb(), start)
    if ephemeral then
        inner:add(subtree, F.hs_ephemeral, 32, "ephemeral key")
    end
    if encrypted_static then
        inner:add(subtree, F.hs_static, 48, "encrypted static key")
    end
    local payload = inner:remaining()
    if payload > 0 then
        local item = subtree:add(F.hs_payload, inner:take(payload))
        item:append_text(payload_encrypted and " (encrypted)" or " (cleartext)")
    end
    subtree:add(F.hs_payload_length, noise, payload):set_generated()
end

local function dissect_initiation(c, tree, pinfo)
    local kind = c:u8(tree, F.hs_kind, "handshake kind")
    if handshake_kinds[kind] == nil then
        malformed(string.format("unknown handshake kind 0x%02x", kind))
    end
    local sender = c:u32(tree, F.hs_sender, "sender index")
    local noise_length = c:remaining() - 32
    if noise_length < 32 then
        malformed("initiation too short for a Noise message and its MACs")
    end
    local ik = kind == 1 or kind == 3
    -- XX message 1 is in the clear, except in XXpsk3, where the psk encrypts its payload.
    noise_parts(c, tree, noise_length, true, ik, kind ~= 2)
    c:add(tree, F.hs_mac1, 16, "mac1")
    local mac2 = c:add(tree, F.hs_mac2, 16, "mac2")
    local cookie = mac2:bytes():tohex() ~= string.rep("00", 16)
    tree:add(F.hs_cookie, mac2, cookie):set_generated()
    info_append(pinfo, string.format(" %s, sender 0x%08x", handshake_kinds[kind], sender))
end

local function dissect_response(c, tree, pinfo)
    local kind = c:u8(tree, F.hs_kind, "handshake kind")
    if handshake_kinds[kind] == nil then
        malformed(string.format("unknown handshake kind 0x%02x", kind))
    end
    local receiver = c:u32(tree, F.hs_receiver, "receiver index")
    local sender = c:u32(tree, F.hs_sender, "sender index")
    local noise_length = c:remaining() - 16
    if noise_length < 32 then
        malformed("response too short for a Noise message and its MAC")
    end
    local xx = kind == 2 or kind == 4
    noise_parts(c, tree, noise_length, true, xx, true)
    c:add(tree, F.hs_mac1, 16, "mac1")
    info_append(pinfo, string.format(
        " %s, receiver 0x%08x, sender 0x%08x", handshake_kinds[kind], receiver, sender))
end

local function dissect_completion(c, tree, pinfo)
    local receiver = c:u32(tree, F.hs_receiver, "receiver index")
    local noise_length = c:remaining()
    if noise_length < 48 then
        malformed("completion too short for an encrypted static key")
    end
    noise_parts(c, tree, noise_length, false, true, true)
    info_append(pinfo, string.format(" receiver 0x%08x", receiver))
end

local function dissect_cookie(c, tree, pinfo)
    local receiver = c:u32(tree, F.cookie_receiver, "receiver index")
    c:add(tree, F.cookie_nonce, 24, "nonce")
    c:add(tree, F.cookie_sealed, 32, "encrypted cookie")
    info_append(pinfo, string.format(" receiver 0x%08x", receiver))
end

local function dissect_transport(c, tree, pinfo)
    local receiver = c:u32(tree, F.tr_receiver, "receiver index")
    local counter = c:u64(tree, F.tr_counter, "counter")
    local length = c:remaining()
    if length < 16 then
        malformed("transport data shorter than its tag")
    end
    local ciphertext = c:take(length)
    tree:add(F.tr_ciphertext, ciphertext)
    tree:add(F.tr_length, ciphertext, length):set_generated()
    tree:add(F.tr_keepalive, ciphertext, length == 16):set_generated()
    info_append(pinfo, string.format(
        " receiver 0x%08x, counter %s, %d bytes%s",
        receiver, tostring(counter), length, length == 16 and " (keepalive)" or ""))
end

-- LAN discovery --------------------------------------------------------------------------

local function dissect_discovery(c, tree, pinfo, kind)
    local mode = c:u8(tree, F.disc_mode, "mode")
    if mode == 1 then
        c:add(tree, F.disc_nonce, 24, "nonce")
        local length = c:remaining()
        if length < 16 + 8 then
            malformed("sealed discovery datagram too short")
        end
        tree:add(F.disc_sealed, c:take(length))
        tree:add(F.disc_sealed_length, c.tvb:range(c.offset - length, length), length):set_generated()
        info_append(pinfo, " (sealed)")
        return
    elseif mode ~= 0 then
        malformed(string.format("unknown discovery mode 0x%02x", mode))
    end
    if kind == 0x07 then
        local wanted = c:peer(tree, F.disc_wanted)
        info_append(pinfo, " for " .. wanted)
    end
    local id = c:record(tree, kind == 0x07 and "Asker's record" or "Peer record")
    if kind ~= 0x07 then
        info_append(pinfo, " " .. id)
    end
    c:finish(tree)
end

-- Overlay messages -----------------------------------------------------------------------

local function member_update(c, tree)
    local start = c.offset
    local subtree = c:subtree(tree, "Member update")
    local state = c:u8(subtree, F.mu_state, "member state")
    if member_states[state] == nil then
        malformed(string.format("unknown member state 0x%02x", state))
    end
    local incarnation = c:u32(subtree, F.mu_incarnation, "incarnation")
    local member = c:peer(subtree, F.mu_member)
    local address = c:address(subtree)
    if state == 0 or state == 3 then
        c:add(subtree, F.mu_signature, 64, "claim signature")
    else
        c:peer(subtree, F.mu_accuser, "accuser")
    end
    subtree:set_len(c.offset - start)
    subtree:append_text(string.format(": %s %s, incarnation %d, %s", member_states[state], member, incarnation, address))
end

local function member_updates(c, tree)
    local count = c:u8(tree, F.mb_update_count, "update count")
    for _ = 1, count do
        member_update(c, tree)
    end
end

local function dissect_membership(c, tree, pinfo)
    local kind = c:u8(tree, F.mb_kind, "membership kind")
    info_append(pinfo, " membership " .. name_of(membership_kinds, kind))
    if kind == 1 then
        c:u32(tree, F.mb_sequence)
        c:peer(tree, F.mb_target)
        c:peer(tree, F.mb_sender)
        c:u64(tree, F.mb_digest)
        member_updates(c, tree)
    elseif kind == 2 then
        c:u32(tree, F.mb_sequence)
        c:peer(tree, F.mb_target)
        c:address(tree, "Target")
        c:peer(tree, F.mb_sender)
    elseif kind == 3 then
        c:u32(tree, F.mb_sequence)
        c:peer(tree, F.mb_sender)
        c:u64(tree, F.mb_digest)
        local coordinate = c:subtree(tree, "Coordinate", 44)
        local labels = { "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "height", "error", "adjustment" }
        for _, label in ipairs(labels) do
            local range = c:take(4, "coordinate")
            coordinate:add(F.mb_coordinate, range):set_text(label .. ": " .. tostring(range:float()))
        end
        member_updates(c, tree)
    elseif kind == 4 then
        c:u32(tree, F.mb_sequence)
        c:peer(tree, F.mb_sender)
    elseif kind == 5 then
        local flags = c:take(1, "flags")
        local flags_item = tree:add(F.mb_flags, flags)
        flags_item:add(F.mb_flag_reply, flags)
        flags_item:add(F.mb_flag_join, flags)
        flags_item:add(F.mb_flag_partial, flags)
        flags_item:add(F.mb_flag_scoped, flags)
        c:peer(tree, F.mb_sender)
        local count = c:u16(tree, F.mb_record_count, "record count")
        for _ = 1, count do
            member_update(c, tree)
        end
    elseif kind == 6 then
        c:peer(tree, F.mb_sender)
        member_updates(c, tree)
    elseif kind == 7 then
        member_update(c, tree)
        local level = c:u8(tree, F.mb_level, "level")
        if level > 8 then
            malformed("sync request level above 8")
        end
        for _ = 1, 2 ^ level do
            c:u32(tree, F.mb_bucket, "bucket")
        end
    else
        malformed(string.format("unknown membership kind 0x%02x", kind))
    end
end

local function dissect_address_check(c, tree, pinfo)
    local kind = c:u8(tree, F.ac_kind, "address check kind")
    info_append(pinfo, " address check " .. name_of(address_check_kinds, kind))
    if address_check_kinds[kind] == nil then
        malformed(string.format("unknown address check kind 0x%02x", kind))
    end
    c:add(tree, F.ac_nonce, 16, "nonce")
end

local function contacts(c, tree)
    local count = c:u8(tree, F.rt_count, "contact count")
    if count > 20 then
        malformed("more than 20 contacts")
    end
    for _ = 1, count do
        local start = c.offset
        local subtree = c:subtree(tree, "Contact")
        local id = c:peer(subtree, F.rt_contact_id, "contact ID")
        local address = c:address(subtree)
        subtree:set_len(c.offset - start)
        subtree:append_text(": " .. id .. " " .. address)
    end
end

local function name_record(c, tree)
    local start = c.offset
    local subtree = c:subtree(tree, "Name record")
    c:u8(subtree, F.nm_version, "name record version")
    c:peer(subtree, F.nm_zone, "zone")
    local label_length = c:take(1, "label length"):uint()
    if label_length > 63 then
        malformed("name label of " .. label_length .. " bytes")
    end
    local label = ""
    if label_length > 0 then
        local range = c:take(label_length, "label")
        label = range:string()
        subtree:add(F.nm_label, range)
    end
    c:u64(subtree, F.nm_sequence, "name sequence")
    local expires = c:take(8, "name expiry")
    subtree:add(F.nm_expires, expires, NSTime.new(expires:uint64():tonumber(), 0))
    c:u32(subtree, F.nm_ttl, "TTL")
    local kind = c:u8(subtree, F.nm_kind, "name record kind")
    if kind == 1 then
        c:peer(subtree, F.nm_delegation, "delegated zone")
    elseif kind == 2 then
        local flag = c:take(1, "peer flag"):uint()
        if flag == 1 then
            c:peer(subtree, F.nm_peer)
        elseif flag ~= 0 then
            malformed("peer flag other than 0 or 1")
        end
        local addresses = c:take(1, "address count"):uint()
        for _ = 1, addresses do
            c:address(subtree)
        end
        local services = c:take(1, "service count"):uint()
        for _ = 1, services do
            c:service(subtree)
        end
        local texts = c:take(1, "text count"):uint()
        for _ = 1, texts do
            local key_length = c:take(1, "text key length"):uint()
            subtree:add(F.nm_text_key, c:take(key_length, "text key"))
            local value_length = c:take(1, "text value length"):uint()
            if value_length > 0 then
                subtree:add(F.nm_text_value, c:take(value_length, "text value"))
            end
        end
    else
        malformed(string.format("unknown name record kind 0x%02x", kind))
    end
    c:add(subtree, F.nm_signature, 64, "name record signature")
    subtree:set_len(c.offset - start)
    subtree:append_text(": '" .. label .. "' " .. name_of(name_record_kinds, kind))
end

local function name_chain(c, tree)
    local count = c:u8(tree, F.nm_count, "chain count")
    if count < 1 or count > 9 then
        malformed("name chain of " .. count .. " records")
    end
    for _ = 1, count do
        name_record(c, tree)
    end
end

local function flag(c, tree)
    local value = c:u8(tree, F.rt_flag, "flag")
    if value > 1 then
        malformed("flag other than 0 or 1")
    end
    return value == 1
end

local function dissect_routing(c, tree, pinfo)
    local kind = c:u8(tree, F.rt_kind, "routing kind")
    info_append(pinfo, " routing " .. name_of(routing_kinds, kind))
    c:u64(tree, F.rt_request, "request ID")
    c:peer(tree, F.rt_sender)
    if kind == 0x01 or kind == 0x02 then
        return
    elseif kind == 0x03 or kind == 0x05 or kind == 0x0d then
        c:add(tree, F.rt_target, 32, "target")
    elseif kind == 0x04 then
        contacts(c, tree)
    elseif kind == 0x06 then
        if flag(c, tree) then
            c:sized_record(tree)
        end
        contacts(c, tree)
    elseif kind == 0x07 then
        c:service(tree)
    elseif kind == 0x08 then
        local count = c:u8(tree, F.rt_count, "record count")
        if count > 8 then
            malformed("more than 8 provider records")
        end
        for _ = 1, count do
            c:sized_record(tree)
        end
        contacts(c, tree)
    elseif kind == 0x09 then
        c:service(tree)
        c:sized_record(tree)
    elseif kind == 0x0a or kind == 0x10 then
        c:u8(tree, F.rt_stored, "stored")
    elseif kind == 0x0b then
        c:add(tree, F.rt_nonce, 32, "nonce")
        c:address(tree)
        -- Zero bytes fill a PROVE to 112 bytes, kind and header included.
        local padding = 112 - (c.offset - c.message_start)
        if padding < 0 then
            malformed("PROVE longer than 112 bytes")
        end
        if padding > 0 then
            c:add(tree, F.rt_padding, padding, "padding")
        end
    elseif kind == 0x0c then
        c:add(tree, F.rt_signature, 64, "signature")
    elseif kind == 0x0e then
        if flag(c, tree) then
            name_chain(c, tree)
        end
        contacts(c, tree)
    elseif kind == 0x0f then
        name_chain(c, tree)
    else
        malformed(string.format("unknown routing kind 0x%02x", kind))
    end
end

local function spreading_payload(c, tree)
    local length = c:u16(tree, F.sp_payload_length, "payload length")
    if length > 0 then
        c:add(tree, F.sp_payload, length, "payload")
    end
end

local function dissect_spreading(c, tree, pinfo)
    local kind = c:u8(tree, F.sp_kind, "spreading kind")
    info_append(pinfo, " spreading " .. name_of(spreading_kinds, kind))
    if kind == 1 then
        c:add(tree, F.sp_id, 16, "message ID")
        c:peer(tree, F.sp_origin)
        c:u8(tree, F.sp_hops)
        spreading_payload(c, tree)
        c:add(tree, F.sp_signature, 64, "signature")
    elseif kind == 2 then
        c:add(tree, F.sp_id, 16, "query ID")
        c:peer(tree, F.sp_origin)
        c:u8(tree, F.sp_ttl)
        c:u8(tree, F.sp_hops)
        c:u8(tree, F.sp_flags)
        spreading_payload(c, tree)
        c:add(tree, F.sp_signature, 64, "signature")
    elseif kind == 3 then
        c:add(tree, F.sp_id, 16, "query ID")
        c:peer(tree, F.sp_responder)
        c:u8(tree, F.sp_hops)
        spreading_payload(c, tree)
        c:add(tree, F.sp_signature, 64, "signature")
    elseif kind == 4 or kind == 5 then
        c:u32(tree, F.sp_identifier)
        c:u64(tree, F.sp_timestamp)
        c:peer(tree, F.sp_sender)
    elseif kind == 6 then
        c:add(tree, F.sp_id, 16, "ID")
        c:u8(tree, F.sp_subject)
        c:peer(tree, F.sp_target)
        c:peer(tree, F.sp_reporter)
    elseif kind == 7 then
        c:add(tree, F.sp_id, 16, "query ID")
        c:peer(tree, F.sp_origin)
        c:peer(tree, F.sp_reporter)
        c:u8(tree, F.sp_hops)
    else
        malformed(string.format("unknown spreading kind 0x%02x", kind))
    end
end

local function dissect_index(c, tree, pinfo)
    local kind = c:u8(tree, F.ix_kind, "index kind")
    info_append(pinfo, " index " .. name_of(index_kinds, kind))
    c:u32(tree, F.ix_request, "request ID")
    if kind == 1 then
        c:u16(tree, F.ix_lifetime)
        c:record(tree)
    elseif kind == 2 then
        c:u8(tree, F.ix_status)
        c:u16(tree, F.ix_lifetime)
    elseif kind == 3 then
        c:peer(tree, F.ix_peer)
    elseif kind == 4 then
        c:service(tree)
    elseif kind == 5 then
        local count = c:u8(tree, F.ix_count, "record count")
        for _ = 1, count do
            c:record(tree)
        end
    elseif kind == 6 then
        c:u8(tree, F.ix_flags)
    elseif kind == 7 then
        c:u32(tree, F.ix_members)
        local count = c:u8(tree, F.ix_count, "index count")
        for _ = 1, count do
            c:peer(tree, F.ix_peer)
            c:address(tree)
        end
    elseif kind == 8 then
        local count = c:u8(tree, F.ix_count, "record count")
        for _ = 1, count do
            c:u16(tree, F.ix_lifetime)
            c:record(tree)
        end
    else
        malformed(string.format("unknown index kind 0x%02x", kind))
    end
end

local dissect_datagram -- below; a super-peer relay carries a whole datagram

-- An advert: ID ‖ address ‖ score u32 ‖ leaf count u16 ‖ free slots u16 ‖ super-peers
-- counted u16 ‖ members counted u32 ‖ role epoch u32 ‖ sequence u32 ‖ flags u8 ‖ age u16.
local function advert(c, tree)
    local start = c.offset
    local subtree = c:subtree(tree, "Advert")
    local id = c:peer(subtree, F.su_peer)
    local address = c:address(subtree)
    c:u32(subtree, F.su_score, "score")
    c:u16(subtree, F.su_leaves, "leaf count")
    c:u16(subtree, F.su_free, "free slots")
    c:u16(subtree, F.su_super_peers, "super-peers counted")
    c:u32(subtree, F.su_members, "members counted")
    c:u32(subtree, F.su_epoch, "role epoch")
    c:u32(subtree, F.su_advert_sequence, "sequence")
    local flags = c:take(1, "flags")
    local flags_item = subtree:add(F.su_flags, flags)
    flags_item:add(F.su_flag_super_peer, flags)
    c:u16(subtree, F.su_age, "age")
    subtree:set_len(c.offset - start)
    subtree:append_text(string.format(": %s %s%s", id, address, flags:uint() % 2 == 1 and ", super-peer" or ""))
end

-- A keyword filter: log2Bits u8 ‖ hashCount u8 ‖ 2^log2Bits / 8 bytes.
local function filter(c, tree)
    local start = c.offset
    local subtree = c:subtree(tree, "Filter")
    local log2_bits = c:u8(subtree, F.su_filter_log2, "filter size")
    c:u8(subtree, F.su_filter_hashes, "filter hash count")
    if log2_bits < 3 or log2_bits > 16 then
        malformed("filter of 2^" .. log2_bits .. " bits")
    end
    c:add(subtree, F.su_filter_bits, 2 ^ (log2_bits - 3), "filter bits")
    subtree:set_len(c.offset - start)
end

local function id_addresses(c, tree, limit)
    local count = c:u8(tree, F.su_count, "count")
    if count > limit then
        malformed("more than " .. limit .. " entries")
    end
    for _ = 1, count do
        c:peer(tree, F.su_peer)
        c:address(tree)
    end
end

local function dissect_super_peer(c, tree, pinfo)
    local kind = c:u8(tree, F.su_kind, "super-peer kind")
    info_append(pinfo, " super-peer " .. name_of(super_peer_kinds, kind))
    if kind == 0x01 then
        advert(c, tree)
        local count = c:u8(tree, F.su_count, "advert count")
        if count > 16 then
            malformed("more than 16 adverts")
        end
        for _ = 1, count do
            advert(c, tree)
        end
    elseif kind == 0x02 then
        c:record(tree, "Leaf's record")
        filter(c, tree)
    elseif kind == 0x03 then
        c:peer(tree, F.su_peer)
        c:u8(tree, F.su_outcome)
        id_addresses(c, tree, 4)
    elseif kind == 0x04 or kind == 0x08 then
        c:peer(tree, F.su_peer)
        filter(c, tree)
    elseif kind == 0x05 then
        c:peer(tree, F.su_peer)
        c:u8(tree, F.su_reason)
    elseif kind == 0x06 then
        c:peer(tree, F.su_peer)
        c:u64(tree, F.su_sequence)
        c:u32(tree, F.su_candidacy)
    elseif kind == 0x07 then
        c:peer(tree, F.su_origin)
        c:peer(tree, F.su_target)
        local length = c:u16(tree, F.su_length, "payload length")
        local start = c.offset
        c:take(length, "relayed datagram")
        local inner = cursor(c.tvb:range(0, start + length):tvb(), start)
        local subtree = tree:add(starling, c.tvb:range(start, length), "Relayed datagram")
        -- The relayed datagram is its sender's business: a fault in it is marked there,
        -- and the relay around it still decodes.
        local ok, err = pcall(dissect_datagram, inner, subtree, pinfo, true)
        if not ok then
            local reason = type(err) == "table" and err.malformed or ("undecodable: " .. tostring(err))
            subtree:add_proto_expert_info(ef_malformed, reason)
        end
    elseif kind == 0x09 then
        c:u32(tree, F.su_request)
        c:peer(tree, F.su_peer, "asker ID")
        local target = c:u8(tree, F.su_target_kind, "lookup target")
        if target == 1 then
            c:peer(tree, F.su_target)
        elseif target == 2 then
            c:service(tree)
        else
            malformed(string.format("unknown lookup target 0x%02x", target))
        end
    elseif kind == 0x0a then
        c:u32(tree, F.su_request)
        local count = c:u8(tree, F.su_count, "record count")
        if count > 16 then
            malformed("more than 16 records")
        end
        for _ = 1, count do
            c:record(tree)
        end
        id_addresses(c, tree, 16)
    elseif kind == 0x0b then
        c:peer(tree, F.su_peer)
    else
        malformed(string.format("unknown super-peer kind 0x%02x", kind))
    end
end

local function dissect_group(c, tree, pinfo)
    local kind = c:u8(tree, F.gr_kind, "group kind")
    info_append(pinfo, " group " .. name_of(group_kinds, kind))
    if group_kinds[kind] == nil then
        malformed(string.format("unknown group kind 0x%02x", kind))
    end
    c:peer(tree, F.gr_sender)
    if kind == 1 or kind == 9 then
        local count = c:u8(tree, F.gr_count, "entry count")
        for _ = 1, count do
            c:add(tree, F.gr_id, 32, "group ID")
            c:u8(tree, F.gr_flags)
        end
    elseif kind == 2 then
        local groups = c:u8(tree, F.gr_count, "group count")
        for _ = 1, groups do
            c:add(tree, F.gr_id, 32, "group ID")
            local members = c:u8(tree, F.gr_count, "member count")
            for _ = 1, members do
                c:peer(tree, F.gr_member)
                c:address(tree)
            end
        end
    elseif kind == 3 or kind == 4 or kind == 6 then
        c:add(tree, F.gr_id, 32, "group ID")
    elseif kind == 5 then
        c:add(tree, F.gr_id, 32, "group ID")
        c:peer(tree, F.gr_origin)
        c:u64(tree, F.gr_sequence)
        c:u8(tree, F.gr_hops)
        c:add(tree, F.gr_nonce, 24, "nonce")
        if c:remaining() < 16 then
            malformed("group data shorter than its tag")
        end
        c:rest(tree, F.gr_ciphertext)
    elseif kind == 7 then
        c:add(tree, F.gr_id, 32, "group ID")
        local count = c:u8(tree, F.gr_count, "message count")
        for _ = 1, count do
            c:peer(tree, F.gr_origin)
            c:u64(tree, F.gr_sequence)
        end
    elseif kind == 8 then
        c:add(tree, F.gr_id, 32, "group ID")
        c:peer(tree, F.gr_origin)
        c:u64(tree, F.gr_sequence)
    end
end

local protocol_dissectors = {
    [1] = dissect_membership,
    [2] = dissect_routing,
    [3] = dissect_spreading,
    [4] = dissect_address_check,
    [5] = dissect_index,
    [6] = dissect_super_peer,
    [7] = dissect_group,
}

local function dissect_overlay(c, tree, pinfo)
    local mode = c:u8(tree, F.ov_mode, "mode")
    if mode == 1 then
        c:add(tree, F.ov_nonce, 24, "nonce")
        local length = c:remaining()
        if length < 8 + 1 + 16 then
            malformed("sealed overlay datagram too short")
        end
        local sealed = c:take(length)
        tree:add(F.ov_sealed, sealed)
        tree:add(F.ov_sealed_length, sealed, length):set_generated()
        info_append(pinfo, " (sealed)")
        return
    elseif mode ~= 0 then
        malformed(string.format("unknown overlay mode 0x%02x", mode))
    end
    c:add(tree, F.ov_tag, 8, "swarm tag")
    local protocol = c:u8(tree, F.ov_protocol, "protocol")
    local dissect = protocol_dissectors[protocol]
    if dissect == nil then
        c:rest(tree, F.ov_message)
        malformed(string.format("unknown overlay protocol 0x%02x", protocol))
    end
    local subtree = c:subtree(tree, name_of(protocols, protocol))
    c.message_start = c.offset
    dissect(c, subtree, pinfo)
    c:finish(tree)
end

-- Datagrams ------------------------------------------------------------------------------

dissect_datagram = function(c, tree, pinfo, relayed)
    local version = c:u8(tree, F.version, "version")
    local kind = c:u8(tree, F.type, "type")
    if relayed then
        info_append(pinfo, string.format(", relayed %s", name_of(types, kind)))
    else
        info_set(pinfo, string.format("Starling %s", name_of(types, kind)))
    end
    if version ~= VERSION then
        if not relayed then
            info_set(pinfo, string.format("Starling, unsupported version 0x%02x", version))
        end
        tree:add_proto_expert_info(ef_version, string.format("version 0x%02x, not 0x%02x", version, VERSION))
        c:rest(tree, F.trailing)
        return
    end
    tree:append_text(", " .. name_of(types, kind))
    if kind == 0x01 then
        local id = c:record(tree)
        info_append(pinfo, " " .. id)
        c:finish(tree)
    elseif kind == 0x02 then
        dissect_initiation(c, tree, pinfo)
    elseif kind == 0x03 then
        dissect_response(c, tree, pinfo)
    elseif kind == 0x04 then
        dissect_completion(c, tree, pinfo)
    elseif kind == 0x05 then
        dissect_transport(c, tree, pinfo)
    elseif kind == 0x06 or kind == 0x07 or kind == 0x08 then
        dissect_discovery(c, tree, pinfo, kind)
    elseif kind == 0x09 then
        dissect_overlay(c, tree, pinfo)
    elseif kind == 0x0a then
        dissect_cookie(c, tree, pinfo)
        c:finish(tree)
    else
        c:rest(tree, F.trailing)
        malformed(string.format("unknown message type 0x%02x", kind))
    end
end

-- UDP GSO (segmentation offload): a peer hands the kernel several datagrams to one
-- destination in one send, all of one size but the last, which may be shorter. A capture
-- on the sending host (loopback, or a card that segments in hardware) sees them as one
-- UDP payload. Transport data and overlay datagrams are sent so; a payload whose bytes at
-- every multiple of some size start like its first datagram (the same header, receiver
-- index and growing counter; the same overlay mode and swarm tag) is split there.
local function gso_segment_size(tvb)
    local length = tvb:len()
    if length < 3 then
        return nil
    end
    local kind = tvb:range(1, 1):uint()
    local prefix_length, minimum
    if kind == 0x05 then
        prefix_length, minimum = 6, 14 + 16
    elseif kind == 0x09 then
        local mode = tvb:range(2, 1):uint()
        if mode == 0 then
            prefix_length, minimum = 11, 13
        elseif mode == 1 then
            prefix_length, minimum = 3, 3 + 24 + 8 + 1 + 16
        else
            return nil
        end
    else
        return nil
    end
    if length < 2 * minimum then
        return nil
    end
    local raw = tvb:raw(0, length)
    local prefix = raw:sub(1, prefix_length)
    local search = minimum + 1
    while true do
        local found = raw:find(prefix, search, true)
        if found == nil then
            return nil
        end
        local size = found - 1
        local valid = true
        local previous = kind == 0x05 and tvb:range(6, 8):uint64() or nil
        local offset = size
        while valid and offset < length do
            local remaining = length - offset
            if remaining < minimum or raw:sub(offset + 1, offset + prefix_length) ~= prefix then
                valid = false
            elseif previous ~= nil then
                local counter = tvb:range(offset + 6, 8):uint64()
                valid = counter > previous
                previous = counter
            end
            offset = offset + size
        end
        if valid then
            return size
        end
        search = found + 1
    end
end

-- Dissects one datagram, `tvb` whole, under a new item of `tree`.
local function dissect_one(tvb, pinfo, tree)
    local root = tree:add(starling, tvb:range(0, tvb:len()))
    local ok, err = pcall(dissect_datagram, cursor(tvb, 0), root, pinfo)
    if not ok then
        local reason = type(err) == "table" and err.malformed or ("undecodable: " .. tostring(err))
        root:add_proto_expert_info(ef_malformed, reason)
        info_append(pinfo, " [Malformed: " .. reason .. "]")
    end
    return root
end

function starling.dissector(tvb, pinfo, tree)
    local length = tvb:len()
    if length == 0 then
        return 0
    end
    pinfo.cols.protocol = "Starling"
    local size = gso_segment_size(tvb)
    if size == nil then
        dissect_one(tvb, pinfo, tree)
        return length
    end
    local offset, count = 0, 0
    while offset < length do
        local segment = tvb:range(offset, math.min(size, length - offset))
        count = count + 1
        info_quiet = count > 1
        local root = dissect_one(segment:tvb(), pinfo, tree)
        info_quiet = false
        root:append_text(string.format(" (datagram %d of a UDP GSO send)", count))
        root:add(F.gso_segment, segment, count):set_generated()
        root:add(F.gso_size, segment, size):set_generated()
        offset = offset + size
    end
    info_append(pinfo, string.format(" (%d datagrams in one UDP GSO send)", count))
    return length
end

-- Claiming datagrams ---------------------------------------------------------------------

-- The smallest plausible datagram of each type, by the fixed fields before any list.
local minimum_lengths = {
    [0x01] = 2 + 1 + 32 + 8 + 8 + 1 + 1 + 64,
    [0x02] = 7 + 32 + 32,
    [0x03] = 11 + 32 + 16 + 16,
    [0x04] = 6 + 48,
    [0x05] = 14 + 16,
    [0x06] = 3 + 24 + 16,
    [0x07] = 3 + 24 + 16,
    [0x08] = 3 + 24 + 16,
    [0x09] = 3 + 8 + 1 + 1,
    [0x0a] = 62,
}

-- Whether a UDP payload looks like a Starling datagram: version 1, a known type, the
-- type's minimum length and its one-byte enumerations (kind, mode, format) in range.
local function looks_like_starling(tvb)
    local length = tvb:len()
    if length < 3 or tvb:range(0, 1):uint() ~= VERSION then
        return false
    end
    local kind = tvb:range(1, 1):uint()
    local minimum = minimum_lengths[kind]
    if minimum == nil or length < minimum then
        return false
    end
    local third = tvb:range(2, 1):uint()
    if kind == 0x01 then
        return third == 1
    elseif kind == 0x02 or kind == 0x03 then
        return handshake_kinds[third] ~= nil
    elseif kind >= 0x06 and kind <= 0x08 then
        return third == 0 or third == 1
    elseif kind == 0x09 then
        if third == 0 then
            return protocols[tvb:range(11, 1):uint()] ~= nil
        end
        return third == 1 and length >= 3 + 24 + 8 + 1 + 16
    elseif kind == 0x0a then
        return length == 62
    end
    return true
end

local function heuristic(tvb, pinfo, tree)
    if not looks_like_starling(tvb) then
        return false
    end
    starling.dissector(tvb, pinfo, tree)
    return true
end

starling:register_heuristic("udp", heuristic)
DissectorTable.get("udp.port"):add(DISCOVERY_PORT, starling)
