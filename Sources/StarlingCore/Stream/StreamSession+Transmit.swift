/// Transmitting: the ready bytes, then queued messages sealed chunk by chunk into the
/// driver's buffer.
extension StreamSession {
    /// Writes pending output into `buffer`: first the ready bytes (header, handshake
    /// frames, control records), then as many chunks of queued messages as fit.
    ///
    /// Each chunk is written and then encrypted in place in `buffer`, so sealing copies
    /// each message byte once and allocates nothing. A chunk is cut to fit the space
    /// left, so any buffer of at least ``StreamConstants/minimumTransmitBuffer`` bytes
    /// makes progress; lend ``StreamConstants/maximumFrameSize`` bytes or more for full
    /// chunks.
    /// - Parameter buffer: memory to fill from its start; its contents are overwritten.
    /// - Returns: the number of bytes written; 0 when nothing is pending (or `buffer`
    ///   is below the minimum and the next item is a chunk).
    public mutating func pollTransmit(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var written = 0
        let ready = wireOutput.count - wireOffset
        if ready > 0, let target = buffer.baseAddress {
            let count = min(ready, buffer.count)
            wireOutput.withUnsafeBytes { source in
                target.copyMemory(from: source.baseAddress! + wireOffset, byteCount: count)
            }
            wireOffset += count
            written = count
            if wireOffset == wireOutput.count {
                wireOutput.removeAll(keepingCapacity: true)
                wireOffset = 0
            }
        }
        guard case .established(var transport) = state, !outgoing.isEmpty, var keys = keys.take() else {
            return written
        }
        state = .modifying
        while let item = outgoing.first, case .modifying = state {
            guard let count = sealNext(item, into: buffer, at: written, &transport, with: &keys.sending) else { break }
            written += count
        }
        self.keys = consume keys
        if case .modifying = state { state = .established(transport) }
        return written
    }

    /// Appends all pending output to `output`: a convenience over
    /// ``pollTransmit(into:)`` for tests and simple drivers (it allocates).
    /// - Parameter output: the bytes to append to.
    /// - Returns: the number of bytes appended.
    @discardableResult
    public mutating func pollTransmit(appendingTo output: inout [UInt8]) -> Int {
        var total = 0
        while hasPendingTransmit {
            let size = max(transmitSizeHint(limit: 1 << 20), StreamConstants.maximumFrameSize)
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: size))
            let count = output.withUnsafeMutableBytes {
                pollTransmit(into: UnsafeMutableRawBufferPointer(rebasing: $0[start...]))
            }
            output.removeLast(size - count)
            total += count
            if count == 0 { break }
        }
        return total
    }

    /// Seals the next chunk of `item` (the first of ``outgoing``) at `offset` in `buffer`.
    /// - Returns: the bytes written, or nil when the chunk does not fit (or sealing
    ///   failed, which fails the session); `cipher` is the session's sending cipher state.
    mutating func sealNext(
        _ item: OutgoingItem, into buffer: UnsafeMutableRawBufferPointer, at offset: Int, _ transport: inout Transport,
        with cipher: inout CipherState
    ) -> Int? {
        let space = buffer.count - offset
        let recordStart = offset + StreamConstants.lengthPrefixSize
        switch item {
        case .close:
            guard space >= StreamConstants.chunkOverhead + StreamConstants.recordTypeSize else { return nil }
            buffer[recordStart] = StreamRecordType.close.rawValue
            guard let count = seal(recordLength: 1, in: buffer, at: offset, with: &cipher) else {
                return nil
            }
            outgoing.removeFirst()
            transport.closeSent = true
            return count
        case .message(let message):
            let starting = outgoingOffset == nil
            let sent = outgoingOffset ?? 0
            let headerSize = StreamConstants.recordTypeSize + (starting ? StreamConstants.messageLengthSize : 0)
            let room = space - StreamConstants.chunkOverhead - headerSize
            let maximumData = starting ? StreamConstants.maximumStartData : StreamConstants.maximumContinuationData
            let take = min(message.count - sent, maximumData, room)
            // A chunk carries at least one byte, except the start of an empty message.
            guard room >= 0, take > 0 || message.isEmpty else { return nil }
            if starting {
                buffer[recordStart] = StreamRecordType.messageStart.rawValue
                StreamWire.storeLength(message.count, at: recordStart + 1, in: buffer)
            } else {
                buffer[recordStart] = StreamRecordType.messageContinuation.rawValue
            }
            if take > 0 {
                message.withUnsafeBytes { source in
                    (buffer.baseAddress! + recordStart + headerSize).copyMemory(
                        from: source.baseAddress! + sent, byteCount: take)
                }
            }
            guard let count = seal(recordLength: headerSize + take, in: buffer, at: offset, with: &cipher)
            else { return nil }
            if sent + take == message.count {
                outgoing.removeFirst()
                outgoingOffset = nil
                completedSends += 1
            } else {
                outgoingOffset = sent + take
            }
            return count
        }
    }

    /// Encrypts the record of `recordLength` bytes that follows the length prefix at
    /// `offset`, in place, and writes the prefix.
    /// - Returns: the chunk's size on the wire, or nil when the sending nonce is used up
    ///   (after 2^64-1 chunks), which ends the session as ``StreamError/closed``.
    mutating func seal(
        recordLength: Int, in buffer: UnsafeMutableRawBufferPointer, at offset: Int, with cipher: inout CipherState
    ) -> Int? {
        let recordStart = offset + StreamConstants.lengthPrefixSize
        let sealedLength = recordLength + NoiseConstants.tagLength
        do {
            _ = try cipher.encrypt(
                ad: UnsafeRawBufferPointer(start: nil, count: 0),
                plaintext: UnsafeRawBufferPointer(rebasing: buffer[recordStart..<recordStart + recordLength]),
                into: UnsafeMutableRawBufferPointer(rebasing: buffer[recordStart..<recordStart + sealedLength]))
        } catch {
            fail(.closed, notifyPeer: false)
            return nil
        }
        StreamWire.storeLength(sealedLength, at: offset, in: buffer)
        return StreamConstants.lengthPrefixSize + sealedLength
    }

    /// Seals a control record with an empty body straight into the ready bytes; used
    /// when nothing is queued before it (the responder's confirm).
    /// - Returns: false when sealing failed (the session has then failed).
    mutating func sealControlRecord(_ type: StreamRecordType, with cipher: inout CipherState) -> Bool {
        var chunk = [UInt8](repeating: 0, count: StreamConstants.chunkOverhead + StreamConstants.recordTypeSize)
        chunk[StreamConstants.lengthPrefixSize] = type.rawValue
        let count = chunk.withUnsafeMutableBytes { seal(recordLength: 1, in: $0, at: 0, with: &cipher) }
        guard count != nil else { return false }
        wireOutput.append(contentsOf: chunk)
        return true
    }
}
