import FairwayCore
import Foundation
import Logging

/// One line per log event on standard error, in either format the services offer:
/// - `json`: one JSON object per line, what log shippers (Loki, CloudWatch, Datadog) ingest without parsing rules —
///   `ts`, `level`, `label`, `msg`, then the metadata (`source` too at error and above);
/// - `text`: `ts level label: key=value … message`, for people.
///
/// Metadata is rendered only when an event is logged. swift-log's `StreamLogHandler` renders it each time a key is
/// set, and Hummingbird sets one per request, so that cost ran on every request whatever the level.
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: LoggingSettings.Format
    private let output: FileHandle

    public init(label: String, format: LoggingSettings.Format, output: FileHandle = .standardError) {
        self.label = label
        self.format = format
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
        let line: Data? =
            switch format {
            case .json: jsonLine(event, merged)
            case .text: Data(textLine(event, merged).utf8)
            }
        guard var line else { return }
        line.append(0x0A)
        output.write(line)
    }

    private func jsonLine(_ event: LogEvent, _ metadata: Logger.Metadata) -> Data? {
        var object: [String: Any] = [
            "ts": Self.timestamp(), "level": event.level.rawValue, "label": label, "msg": event.message.description,
        ]
        for (key, value) in metadata { object[key] = Self.json(value) }
        if event.level >= .error { object["source"] = "\(event.file):\(event.line)" }
        return try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    private func textLine(_ event: LogEvent, _ metadata: Logger.Metadata) -> String {
        var line = "\(Self.timestamp()) \(event.level) \(label):"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        return line + " \(event.message)"
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
