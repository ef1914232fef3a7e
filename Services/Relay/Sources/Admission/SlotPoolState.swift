import Foundation

/// A relay's idle deployment slots, kept a moment for its next request so that an uncontended deployment costs no
/// Redis round trip per request (DESIGN §5.1, amended in docs/decisions.md). A pure value: the caller passes the time
/// and carries out the releases it is told to.
///
/// Work conservation across relays is kept by three rules: a slot idles here at most ``Settings/idle``; a deployment
/// anyone waits for (this relay's own `wait` answer, or another relay's contention message) is *contended* for
/// ``Settings/contentionWindow``, during which every idle slot goes back at once and no slot is kept; and a slot is
/// reused for at most ``Settings/maxAge`` after Redis granted it, so even a lost contention message lets a waiter
/// elsewhere in within that time.
struct SlotPoolState {
    struct Settings: Sendable {
        /// Longest a slot waits here for a request; zero turns the pool off.
        var idle: Duration
        /// Longest a slot is reused after Redis granted it.
        var maxAge: Duration
        /// How long a sign of contention keeps a deployment's slots from being kept.
        var contentionWindow: Duration
    }

    /// A slot Redis granted, when, and the request that last held it (a slot goes back to Redis with its deployment
    /// and tenant).
    struct Slot: Sendable {
        var lease: LeaseRenewer.Lease
        var granted: ContinuousClock.Instant
        var owner: AdmissionRequest
    }

    private struct Idle {
        var slot: Slot
        var since: ContinuousClock.Instant
    }

    private struct Deployment {
        var idle: [Idle] = []
        var contendedUntil: ContinuousClock.Instant?

        func isContended(at now: ContinuousClock.Instant) -> Bool {
            contendedUntil.map { now < $0 } ?? false
        }

        /// The most recently finished slot still young enough; an aged one stays for `expire`, which gives it back.
        mutating func takeYoungest(now: ContinuousClock.Instant, maxAge: Duration) -> Slot? {
            guard !isContended(at: now), let index = idle.lastIndex(where: { now - $0.slot.granted < maxAge }) else { return nil }
            return idle.remove(at: index).slot
        }
    }

    /// What to do with a slot its request has finished with.
    enum Return: Equatable {
        /// It idles in the pool.
        case kept
        /// It goes back to Redis now.
        case release
    }

    let settings: Settings
    private var deployments: [UUID: Deployment] = [:]
    private var closed = false

    init(settings: Settings) {
        self.settings = settings
    }

    var isEnabled: Bool { settings.idle > .zero && !closed }

    /// An idle slot of `deployment` for a request starting now, unless the deployment is contended.
    mutating func take(_ deployment: UUID, now: ContinuousClock.Instant) -> Slot? {
        guard isEnabled else { return nil }
        // In place: a copy of the deployment's entry would copy its array on removal, on the hot path.
        return deployments[deployment]?.takeYoungest(now: now, maxAge: settings.maxAge)
    }

    /// Where a finished request's slot goes.
    mutating func put(_ slot: Slot, deployment: UUID, now: ContinuousClock.Instant) -> Return {
        guard isEnabled, now - slot.granted < settings.maxAge else { return .release }
        if deployments[deployment]?.isContended(at: now) == true { return .release }
        deployments[deployment, default: Deployment()].idle.append(Idle(slot: slot, since: now))
        return .kept
    }

    /// Someone waits for `deployment`: its idle slots go back (to be handed to the best waiter) and none is kept for a
    /// while.
    mutating func contended(_ deployment: UUID, now: ContinuousClock.Instant) -> [Slot] {
        var entry = deployments[deployment, default: Deployment()]
        entry.contendedUntil = now + settings.contentionWindow
        defer { entry.idle = []; deployments[deployment] = entry }
        return entry.idle.map(\.slot)
    }

    /// The slots idle too long or granted too long ago, taken out to go back to Redis.
    mutating func expire(now: ContinuousClock.Instant) -> [Slot] {
        var expired: [Slot] = []
        for (id, var entry) in deployments {
            let (stale, fresh) = entry.idle.partitioned { now - $0.since >= settings.idle || now - $0.slot.granted >= settings.maxAge }
            expired += stale.map(\.slot)
            entry.idle = fresh
            if entry.idle.isEmpty && !entry.isContended(at: now) {
                deployments[id] = nil
            } else {
                deployments[id] = entry
            }
        }
        return expired
    }

    /// Shutting down: every idle slot goes back and none is kept from now on.
    mutating func close() -> [Slot] {
        closed = true
        defer { deployments = [:] }
        return deployments.values.flatMap { $0.idle.map(\.slot) }
    }

    /// How many slots idle here (for tests and the metric).
    var idleCount: Int { deployments.values.reduce(0) { $0 + $1.idle.count } }
}

extension Array {
    /// The elements that satisfy `predicate`, and the others, each in their order.
    fileprivate func partitioned(by predicate: (Element) -> Bool) -> (matching: [Element], others: [Element]) {
        var matching: [Element] = [], others: [Element] = []
        for element in self {
            if predicate(element) { matching.append(element) } else { others.append(element) }
        }
        return (matching, others)
    }
}
