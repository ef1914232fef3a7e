import FairwayCore

/// Where finished requests' events go; ``RequestLogEmitter`` in production.
public protocol RequestLogSink: Sendable {
    func emit(_ event: RequestLogEvent)
}
