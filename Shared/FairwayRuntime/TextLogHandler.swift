import Foundation
import Logging

/// Human-readable lines on standard error: `ts level label: key=value … message`.
///
/// swift-log's `StreamLogHandler` renders its metadata into text each time a key is set; Hummingbird sets one per
/// request, so that rendering ran on every request whatever the log level. This handler renders only when it logs.
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: FileHandle

    public init(label: String, output: FileHandle = .standardError) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var line = "\(JSONLogHandler.timestamp()) \(event.level) \(label):"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        line += " \(event.message)\n"
        output.write(Data(line.utf8))
    }
}
