/// One token of a Noise handshake pattern (spec section 7.1).
///
/// ONLY APPEND — the raw values are the spec's token names.
public enum NoiseToken: String, Sendable, CaseIterable {
    /// Send (or receive) an ephemeral public key.
    case e
    /// Send (or receive) a static public key, encrypted once a key exists.
    case s
    /// DH between the two ephemeral keys.
    case ee
    /// DH between the initiator's ephemeral key and the responder's static key.
    case es
    /// DH between the initiator's static key and the responder's ephemeral key.
    case se
    /// DH between the two static keys.
    case ss
    /// Mix in the next pre-shared key (spec section 9).
    case psk
}

/// A Noise handshake pattern as data: pre-messages and the token list of each message.
///
/// ### Purpose
/// ``NoiseHandshake`` runs any pattern by walking these lists, so every pattern is the
/// same code. Build one with ``init(name:)`` from a name such as `XX`, `IKpsk2` or
/// `NNpsk0+psk2`: one of the fifteen one-way and interactive base patterns of spec
/// sections 7.4 and 7.5, followed by optional `pskN` modifiers (section 9.2).
///
/// Message 0 is sent by the initiator, message 1 by the responder, and so on in turn.
public struct HandshakePattern: Sendable, Equatable {
    /// The pattern's name, exactly as given (it is hashed into the protocol name).
    public let name: String
    /// Keys the initiator's peer knows before the handshake (`-> s` above the `...`).
    public let initiatorPreMessage: [NoiseToken]
    /// Keys the responder's peer knows before the handshake (`<- s` above the `...`).
    public let responderPreMessage: [NoiseToken]
    /// The tokens of each handshake message, in order, psk tokens included.
    public let messages: [[NoiseToken]]
    /// True for the one-way patterns `N`, `K` and `X`: one message, after which only
    /// the initiator sends.
    public let isOneWay: Bool

    /// Parses a pattern name such as `IK`, `XXpsk3` or `NNpsk0+psk2`.
    ///
    /// - Parameter name: a base pattern name followed by zero or more `pskN`
    ///   modifiers joined by `+`.
    /// - Throws: ``NoiseError/unsupportedPattern(_:)`` for an unknown base pattern, an
    ///   unknown or repeated modifier, or a psk position past the last message.
    public init(name: String) throws(NoiseError) {
        let base = String(name.prefix { $0.isASCII && $0.isUppercase })
        guard let template = Self.basePatterns[base] else { throw .unsupportedPattern(name) }
        var messages = template.messages
        let modifiers = name.dropFirst(base.count)
        if !modifiers.isEmpty {
            var seen: Set<Int> = []
            for modifier in modifiers.split(
                separator: NoiseConstants.modifierSeparator, omittingEmptySubsequences: false)
            {
                guard let position = Self.pskPosition(modifier), position <= messages.count,
                    seen.insert(position).inserted
                else { throw .unsupportedPattern(name) }
                if position == 0 {
                    messages[0].insert(.psk, at: 0)
                } else {
                    messages[position - 1].append(.psk)
                }
            }
        }
        self.name = name
        self.initiatorPreMessage = template.initiator
        self.responderPreMessage = template.responder
        self.messages = messages
        self.isOneWay = base.count == 1
    }

    /// How many pre-shared keys the pattern uses.
    public var presharedKeyCount: Int {
        messages.joined().filter { $0 == .psk }.count
    }

    /// True when the side (initiator or responder) must hold a static key pair: it
    /// appears in that side's pre-message or that side sends an `s` token.
    ///
    /// - Parameter initiator: which side to ask about.
    /// - Returns: whether that side needs its static key pair.
    public func needsLocalStatic(initiator: Bool) -> Bool {
        let preMessage = initiator ? initiatorPreMessage : responderPreMessage
        if preMessage.contains(.s) { return true }
        return messages.indices.contains { index in
            (index % 2 == 0) == initiator && messages[index].contains(.s)
        }
    }

    /// True when the side must know the peer's static public key before the handshake.
    ///
    /// - Parameter initiator: which side to ask about.
    /// - Returns: whether the peer's pre-message carries `s`.
    public func needsRemoteStatic(initiator: Bool) -> Bool {
        (initiator ? responderPreMessage : initiatorPreMessage).contains(.s)
    }

    /// The position `N` of a `pskN` modifier, or nil if `modifier` is anything else.
    private static func pskPosition(_ modifier: Substring) -> Int? {
        guard modifier.hasPrefix(NoiseConstants.pskModifierPrefix) else { return nil }
        let digits = modifier.dropFirst(NoiseConstants.pskModifierPrefix.count)
        guard !digits.isEmpty, digits.count <= 2, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            digits == "0" || !digits.hasPrefix("0")
        else { return nil }
        return Int(digits)
    }

    /// A base pattern before modifiers.
    private struct Template {
        let initiator: [NoiseToken]
        let responder: [NoiseToken]
        let messages: [[NoiseToken]]
    }

    /// The base patterns of spec sections 7.4 (one-way) and 7.5 (interactive).
    private static let basePatterns: [String: Template] = [
        "N": Template(initiator: [], responder: [.s], messages: [[.e, .es]]),
        "K": Template(initiator: [.s], responder: [.s], messages: [[.e, .es, .ss]]),
        "X": Template(initiator: [], responder: [.s], messages: [[.e, .es, .s, .ss]]),
        "NN": Template(initiator: [], responder: [], messages: [[.e], [.e, .ee]]),
        "NK": Template(initiator: [], responder: [.s], messages: [[.e, .es], [.e, .ee]]),
        "NX": Template(initiator: [], responder: [], messages: [[.e], [.e, .ee, .s, .es]]),
        "XN": Template(initiator: [], responder: [], messages: [[.e], [.e, .ee], [.s, .se]]),
        "XK": Template(initiator: [], responder: [.s], messages: [[.e, .es], [.e, .ee], [.s, .se]]),
        "XX": Template(initiator: [], responder: [], messages: [[.e], [.e, .ee, .s, .es], [.s, .se]]),
        "KN": Template(initiator: [.s], responder: [], messages: [[.e], [.e, .ee, .se]]),
        "KK": Template(initiator: [.s], responder: [.s], messages: [[.e, .es, .ss], [.e, .ee, .se]]),
        "KX": Template(initiator: [.s], responder: [], messages: [[.e], [.e, .ee, .se, .s, .es]]),
        "IN": Template(initiator: [], responder: [], messages: [[.e, .s], [.e, .ee, .se]]),
        "IK": Template(initiator: [], responder: [.s], messages: [[.e, .es, .s, .ss], [.e, .ee, .se]]),
        "IX": Template(initiator: [], responder: [], messages: [[.e, .s], [.e, .ee, .se, .s, .es]]),
    ]
}
