import ArgumentParser
import NIOCore
import StarlingCore
import StarlingIO

extension McastCommand {
    /// `starling mcast send`: send text messages to a group.
    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send text messages to a multicast group: --message, or each line of standard input.",
            discussion: """
                Each message is one datagram. Without --raw it is a lab packet (a 32-byte \
                header with this run's id, a sequence number and the send time, then the text), \
                which `starling mcast listen` prints with its sender and sequence; with --raw it \
                is the bare UTF-8 text, as any multicast receiver expects.
                """
        )

        @OptionGroup var target: McastGroupOptions
        @OptionGroup var sending: McastSendingOptions

        @Option(
            help: ArgumentHelp(
                "The message to send; without it, each line of standard input is one.", valueName: "text"))
        var message: String?

        @Flag(help: "Send the bare text as the UDP payload, not a lab packet.")
        var raw = false

        func validate() throws {
            if let message { _ = try payload(for: message) }
        }

        func run() async throws {
            let resolved = try McastTarget(target)
            let senderID = McastOutput.newSenderID()
            let local = try resolved.wildcard(port: 0)
            let (datagrams, bytes) = try await UDPCommand.withSocket(boundTo: local) { socket in
                try await McastCommand.prepareSender(socket, resolved: resolved, sending: sending)
                var sequence: UInt64 = 0
                var bytes = 0
                let lines: AsyncStream<String> =
                    if let message {
                        AsyncStream {
                            $0.yield(message); $0.finish()
                        }
                    } else {
                        StandardInputLines.stream()
                    }
                for await line in lines {
                    let payload = try payload(for: line, senderID: senderID, sequence: sequence)
                    try await McastCommand.send(payload, on: socket, to: resolved)
                    sequence += 1
                    bytes += payload.count
                }
                return (Int(sequence), bytes)
            }
            if target.json {
                McastOutput.emitJSON(
                    SentEvent(
                        group: resolved.groupText, interface: resolved.interface.name,
                        sender: raw ? nil : McastOutput.senderText(senderID), datagrams: datagrams, bytes: bytes))
            } else {
                let run = raw ? "" : " as sender \(McastOutput.senderText(senderID))"
                UDPCommand.note(
                    "sent \(datagrams) datagram\(datagrams == 1 ? "" : "s") (\(bytes) bytes) to \(resolved.groupText) "
                        + "on \(resolved.interface.name)\(run)")
            }
        }

        /// The datagram for one message.
        ///
        /// - Throws: `ValidationError` for a message too large for one datagram.
        private func payload(for text: String, senderID: UInt64 = 0, sequence: UInt64 = 0) throws -> [UInt8] {
            let bytes = Array(text.utf8)
            if raw {
                guard bytes.count <= ProbeConstants.maximumPacketSize else {
                    throw ValidationError(
                        "a message of \(bytes.count) bytes does not fit in one datagram "
                            + "(at most \(ProbeConstants.maximumPacketSize))")
                }
                return bytes
            }
            let packet = ProbePacket.message(
                bytes, senderID: senderID, sequence: sequence, sentAtNanoseconds: LabClock.nowNanoseconds())
            do {
                return try packet.encoded()
            } catch {
                let room = ProbeConstants.maximumPacketSize - ProbeConstants.headerSize
                throw ValidationError(
                    "a message of \(bytes.count) bytes does not fit in one lab packet (at most \(room))")
            }
        }
    }
}

// MARK: - Shared by send and probe

extension McastCommand {
    /// Points `socket`'s multicast at the interface with the TTL and loopback asked for.
    ///
    /// - Throws: ``CLIError`` when the kernel refuses an option.
    static func prepareSender(_ socket: GroupSocket, resolved: McastTarget, sending: McastSendingOptions) async throws {
        do {
            try await socket.setMulticastInterface(resolved.interface)
            try await socket.setMulticastHopLimit(UInt8(sending.ttl))
            try await socket.setMulticastLoopback(sending.loopback)
        } catch {
            throw CLIError("cannot send multicast on \(resolved.interface.name): \(error)")
        }
    }

    /// Sends one datagram to the group.
    ///
    /// - Throws: ``CLIError`` when the kernel refuses the send.
    static func send(_ payload: [UInt8], on socket: GroupSocket, to resolved: McastTarget) async throws {
        do {
            try await socket.send(ByteBuffer(bytes: payload), to: resolved.group)
        } catch {
            throw CLIError("cannot send to \(resolved.groupText) on \(resolved.interface.name): \(error)")
        }
    }
}
