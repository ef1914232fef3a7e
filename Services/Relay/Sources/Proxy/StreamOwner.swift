import Hummingbird
import Synchronization

/// Holds a started stream's admission ticket and request record from the moment the response is handed to the server
/// until the stream has been settled — exactly once. The response body settles it when it finishes; if the body is
/// never run (the response head could not be written, the connection was reset, the handler was cancelled), dropping
/// the owner settles it as abandoned: the reader stops, the slot is released and the event emitted.
final class StreamOwner: Sendable {
    struct Held: Sendable {
        var stream: UpstreamStream
        var ticket: any AdmissionTicket
        var record: RequestRecord
    }

    typealias Settle = @Sendable (StreamEnd, Held) async -> Void

    private let held: Mutex<Held?>
    private let settle: Settle
    private let interruption: @Sendable () -> RelayError?
    private let capture: StreamCapture?

    /// - Parameter interruption: why the relay stopped the stream itself, if it did (told to the client).
    init(_ held: Held, interruption: @escaping @Sendable () -> RelayError?, capture: StreamCapture? = nil, settle: @escaping Settle) {
        self.held = Mutex(held)
        self.interruption = interruption
        self.capture = capture
        self.settle = settle
    }

    private func take() -> Held? { held.withLock { $0.take() } }

    /// Relays the stream to the client, then settles.
    func relay(to writer: inout any ResponseBodyWriter) async {
        guard let held = take() else { return }
        let end = await held.stream.relay(to: &writer, interruption: interruption, capture: capture)
        await settle(end, held)
    }

    deinit {
        guard let held = take() else { return }
        held.stream.abort()
        let end = StreamEnd(ending: .clientLeft, reported: held.stream.progress.usage, streamedCharacters: held.stream.progress.characters)
        let settle = self.settle
        Task { await settle(end, held) }
    }
}
