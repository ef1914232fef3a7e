import FairwayCore
import NIOConcurrencyHelpers
import NIOCore

/// One place in the client's pool: a connection that is made on first use, remade after it drops, and not retried
/// until a backoff has passed after a failed attempt (commands fail fast meanwhile instead of queueing behind a dead
/// server).
final class RedisConnectionSlot: Sendable {
    private enum State {
        case idle(failures: Int, retryAt: NIODeadline, lastError: RedisError?)
        case connecting(EventLoopFuture<RedisConnection>)
        case connected(RedisConnection)
        case closed
    }

    private let state = NIOLockedValueBox(State.idle(failures: 0, retryAt: .uptimeNanoseconds(0), lastError: nil))
    private let configuration: RedisConfiguration
    let eventLoop: any EventLoop

    init(configuration: RedisConfiguration, eventLoop: any EventLoop) {
        self.configuration = configuration
        self.eventLoop = eventLoop
    }

    func connection() -> EventLoopFuture<RedisConnection> {
        state.withLockedValue { state -> EventLoopFuture<RedisConnection> in
            switch state {
            case .connected(let connection) where connection.isActive:
                return eventLoop.makeSucceededFuture(connection)
            case .connecting(let future):
                return future
            case .closed:
                return eventLoop.makeFailedFuture(RedisError.clientClosed)
            case .connected:
                return startConnecting(&state, failures: 0)
            case .idle(let failures, let retryAt, let lastError):
                if let lastError, NIODeadline.now() < retryAt {
                    return eventLoop.makeFailedFuture(lastError)
                }
                return startConnecting(&state, failures: failures)
            }
        }
    }

    private func startConnecting(_ state: inout State, failures: Int) -> EventLoopFuture<RedisConnection> {
        let future = RedisConnection.connect(configuration: configuration, eventLoop: eventLoop)
        state = .connecting(future)
        future.whenComplete { result in
            self.state.withLockedValue { state in
                guard case .connecting = state else {
                    if case .success(let connection) = result { connection.close() }
                    return
                }
                switch result {
                case .success(let connection):
                    state = .connected(connection)
                case .failure(let error):
                    let delay = self.configuration.reconnectBackoff.delay(attempt: failures)
                    state = .idle(
                        failures: failures + 1,
                        retryAt: .now() + .nanoseconds(Int64(delay.seconds * 1e9)),
                        lastError: error as? RedisError ?? .connectionFailed(String(describing: error))
                    )
                }
            }
        }
        return future
    }

    func close() {
        let previous = state.withLockedValue { state -> State in
            let previous = state
            state = .closed
            return previous
        }
        switch previous {
        case .connected(let connection): connection.close()
        case .connecting(let future): future.whenSuccess { $0.close() }
        case .idle, .closed: break
        }
    }
}
