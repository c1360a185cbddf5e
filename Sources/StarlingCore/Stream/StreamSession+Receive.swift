/// Receiving: opening chunks and reassembling messages from their records.
extension StreamSession {
    /// Handles one chunk of an established stream.
    ///
    /// The chunk is decrypted in place in its frame (which the framer allocated for it);
    /// a message's bytes are then copied once, into the message.
    mutating func handleChunk(_ frame: [UInt8], _ transport: inout Transport) {
        var frame = frame
        guard let length = Self.open(&frame, with: &keys) else {
            return fail(.authenticationFailed, notifyPeer: false)
        }
        guard length >= StreamConstants.recordTypeSize, let type = StreamRecordType(rawValue: frame[0]) else {
            return fail(.malformedFrame, notifyPeer: false)
        }
        switch type {
        case .messageStart:
            handleMessageStart(frame, length: length, &transport)
        case .messageContinuation:
            handleContinuation(frame, length: length, &transport)
        case .close:
            guard transport.inbound == nil, length == StreamConstants.recordTypeSize else {
                return fail(.malformedFrame, notifyPeer: false)
            }
            transport.closeReceived = true
            events.append(.closed)
            // Answer with this side's close, after whatever it still has queued.
            if !transport.closeQueued {
                transport.closeQueued = true
                outgoing.append(.close)
            }
        case .confirm:
            fail(.malformedFrame, notifyPeer: false)
        }
    }

    /// A message-start record: checks the declared length, then reserves at most
    /// ``StreamConstants/initialReceiveReservation`` bytes; the message's buffer grows
    /// with the bytes that arrive, never with the declared length alone.
    mutating func handleMessageStart(_ record: [UInt8], length: Int, _ transport: inout Transport) {
        let dataStart = StreamConstants.recordTypeSize + StreamConstants.messageLengthSize
        guard transport.inbound == nil, length >= dataStart else {
            return fail(.malformedFrame, notifyPeer: false)
        }
        let declared = record.withUnsafeBytes { StreamWire.loadLength(at: StreamConstants.recordTypeSize, in: $0) }
        guard declared <= maximumMessageSize else {
            return fail(.payloadTooLarge(size: declared, maximum: maximumMessageSize), notifyPeer: false)
        }
        let data = record[dataStart..<length]
        guard data.count <= declared else { return fail(.malformedFrame, notifyPeer: false) }
        if data.count == declared {
            events.append(.message(Array(data)))
            return
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(declared, max(data.count, StreamConstants.initialReceiveReservation)))
        bytes.append(contentsOf: data)
        transport.inbound = InboundMessage(declaredLength: declared, bytes: bytes)
    }

    /// A continuation record: at least one byte, and no more than the message still needs.
    mutating func handleContinuation(_ record: [UInt8], length: Int, _ transport: inout Transport) {
        let data = record[StreamConstants.recordTypeSize..<length]
        guard var inbound = transport.inbound, !data.isEmpty, data.count <= inbound.remaining else {
            return fail(.malformedFrame, notifyPeer: false)
        }
        transport.inbound = nil
        inbound.bytes.append(contentsOf: data)
        if inbound.remaining == 0 {
            events.append(.message(inbound.bytes))
        } else {
            transport.inbound = inbound
        }
    }

    /// Decrypts a chunk in place with the next receiving nonce of `keys`.
    /// - Returns: the plaintext length (the plaintext fills the start of `frame`), or
    ///   nil when the chunk does not authenticate (the nonce is then unchanged) or
    ///   there are no keys.
    static func open(_ frame: inout [UInt8], with keys: inout NoiseTransportKeys?) -> Int? {
        guard var current = keys.take() else { return nil }
        let length = frame.withUnsafeMutableBytes { buffer in
            try? current.receiving.decrypt(
                ad: UnsafeRawBufferPointer(start: nil, count: 0), ciphertext: UnsafeRawBufferPointer(buffer),
                into: buffer)
        }
        keys = consume current
        return length
    }
}
