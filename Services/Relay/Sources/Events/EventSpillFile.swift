import FairwayCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The relay's local append-only overflow for request-log events while Redis is unreachable (DESIGN §6, §10).
///
/// One event per line, as a JSON object of its stream fields. Appends go to the end; replay reads from a remembered
/// offset and the file is truncated once everything in it was delivered. A line is only ever whole: a torn last line
/// (a crash or a full disk mid-write) is cut off when the file is opened, and a failed append is undone, so it never
/// merges with the next event. Appends are fsynced in groups (every `syncEvery` events, or when asked). Not
/// thread-safe: its owner serialises access.
public struct EventSpillFile: Sendable {
    public let path: String
    private(set) var readOffset: UInt64 = 0
    /// Appended events not yet fsynced.
    private(set) var unsynced = 0
    public let syncEvery: Int

    public init(path: String, syncEvery: Int = 64) {
        self.path = path
        self.syncEvery = syncEvery
        Self.cutTornTail(path)
    }

    /// Truncates the file after its last newline (nothing to do for a missing or whole file).
    static func cutTornTail(_ path: String) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd(), size > 0 else { return }
        var end = size
        let window: UInt64 = 64 << 10
        while end > 0 {
            let start = end > window ? end - window : 0
            guard (try? handle.seek(toOffset: start)) != nil, let data = try? handle.read(upToCount: Int(end - start)) else { return }
            if let newline = data.lastIndex(of: 0x0A) {
                let keep = start + UInt64(data.distance(from: data.startIndex, to: newline)) + 1
                if keep < size { _ = truncate(path, off_t(keep)) }
                return
            }
            end = start
        }
        _ = truncate(path, 0)
    }

    /// Whether the file can be written (its directory exists or can be made, and it opens for appending).
    public func isWritable() -> Bool {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return false }
        close(descriptor)
        return true
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

    public mutating func append(_ events: [RequestLogEvent]) throws(WriteFailed) {
        guard !events.isEmpty else { return }
        var text = ""
        for event in events { text += Self.line(for: event) }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw WriteFailed(reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        let before = lseek(descriptor, 0, SEEK_END)
        do throws(WriteFailed) {
            try Self.write(Array(text.utf8), to: descriptor)
            unsynced += events.count
            if unsynced >= syncEvery { try sync(descriptor) }
        } catch {
            // Undo a partial line, so the next append starts on a line of its own.
            if before >= 0 { _ = ftruncate(descriptor, before) }
            throw error
        }
    }

    /// Fsyncs what was appended since the last sync.
    public mutating func sync() throws(WriteFailed) {
        guard unsynced > 0 else { return }
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw WriteFailed(reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        try sync(descriptor)
    }

    private mutating func sync(_ descriptor: Int32) throws(WriteFailed) {
        guard fsync(descriptor) == 0 else { throw WriteFailed(reason: String(cString: strerror(errno))) }
        unsynced = 0
    }

    private static func write(_ bytes: [UInt8], to descriptor: Int32) throws(WriteFailed) {
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
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
        var staging = EventSpillFile(path: temporary)
        try staging.append(events)
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
        try staging.sync()
        guard rename(temporary, path) == 0 else { throw WriteFailed(reason: String(cString: strerror(errno))) }
        readOffset = 0
        unsynced = 0
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
