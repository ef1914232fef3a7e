import FairwayCore
import Foundation

/// The relay's local append-only overflow for request-log events while Redis is unreachable (DESIGN §6, §10).
///
/// One event per line, as a JSON object of its stream fields. Appends go to the end; replay reads from a remembered
/// offset and the file is truncated once everything in it was delivered. Not thread-safe: its owner serialises access.
public struct EventSpillFile: Sendable {
    public let path: String
    private(set) var readOffset: UInt64 = 0

    public init(path: String) {
        self.path = path
    }

    public struct WriteFailed: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { "cannot write the event spill file: \(reason)" }
    }

    /// Bytes in the file that have not been replayed yet.
    public var pendingBytes: UInt64 {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
        return size > readOffset ? size - readOffset : 0
    }

    public func append(_ events: [RequestLogEvent]) throws(WriteFailed) {
        guard !events.isEmpty else { return }
        var text = ""
        for event in events { text += Self.line(for: event) }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw WriteFailed(reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if result < 0 {
                if errno == EINTR { continue }
                throw WriteFailed(reason: String(cString: strerror(errno)))
            }
            written += result
        }
    }

    /// Up to `limit` events from the read offset; the offset moves only when ``commit(_:)`` is called, so a failed
    /// delivery reads the same events again. Lines that do not decode are skipped and counted.
    public func read(limit: Int) -> (events: [RequestLogEvent], endOffset: UInt64, undecodable: Int) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return ([], readOffset, 0) }
        defer { try? handle.close() }
        do { try handle.seek(toOffset: readOffset) } catch { return ([], readOffset, 0) }
        var events: [RequestLogEvent] = []
        var offset = readOffset
        var undecodable = 0
        var carry: [UInt8] = []
        while events.count < limit, let data = try? handle.read(upToCount: 1 << 20), !data.isEmpty {
            carry += data
            var start = 0
            while events.count < limit, let newline = carry[start...].firstIndex(of: 0x0A) {
                let line = carry[start..<newline]
                offset += UInt64(newline - start + 1)
                start = newline + 1
                if let event = Self.event(from: line) { events.append(event) } else { undecodable += 1 }
            }
            carry.removeFirst(start)
        }
        return (events, offset, undecodable)
    }

    public mutating func commit(_ offset: UInt64) {
        readOffset = offset
    }

    /// Empties the file once everything was delivered.
    public mutating func reset() {
        _ = truncate(path, 0)
        readOffset = 0
    }

    /// Puts `events` before everything not yet replayed (used at shutdown, so the older in-memory events stay first).
    public mutating func prepend(_ events: [RequestLogEvent]) throws(WriteFailed) {
        guard !events.isEmpty else { return }
        var remaining: [UInt8] = []
        if let handle = FileHandle(forReadingAtPath: path) {
            try? handle.seek(toOffset: readOffset)
            remaining = Array((try? handle.readToEnd()) ?? Data())
            try? handle.close()
        }
        let temporary = path + ".tmp"
        _ = unlink(temporary)
        try EventSpillFile(path: temporary).append(events)
        if !remaining.isEmpty {
            guard let handle = FileHandle(forWritingAtPath: temporary) else { throw WriteFailed(reason: "cannot reopen \(temporary)") }
            do {
                try handle.seekToEnd()
                try handle.write(contentsOf: remaining)
                try handle.synchronize()
                try handle.close()
            } catch {
                throw WriteFailed(reason: "\(error)")
            }
        }
        guard rename(temporary, path) == 0 else { throw WriteFailed(reason: String(cString: strerror(errno))) }
        readOffset = 0
    }

    static func line(for event: RequestLogEvent) -> String {
        var object = JSONObject()
        for (name, value) in event.fields { object[name] = .string(value) }
        return object.text + "\n"
    }

    static func event(from line: ArraySlice<UInt8>) -> RequestLogEvent? {
        guard let object = (try? JSONParser.parse(Array(line)))?.object else { return nil }
        var fields: [String: String] = [:]
        for (name, value) in object { fields[name] = value.string }
        return try? RequestLogEvent(fields: fields)
    }
}
