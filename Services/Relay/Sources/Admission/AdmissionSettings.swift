import FairShare

/// Admission tuning, from `FAIRWAY_*` variables (see ``RelayConfiguration``).
public struct AdmissionSettings: Sendable {
    /// `FAIRWAY_FAIRSHARE_HALF_LIFE`, seconds.
    public var halfLife: Double
    public var mode: FairShareCalculator.Mode
    /// `FAIRWAY_QUEUE_TIMEOUT`: longest wait for a slot before 503.
    public var queueTimeout: Duration
    /// Most waiters per deployment; one more is refused at once.
    public var maxQueueLength: Int
    /// Leases expire after this unless renewed, so a crashed relay's slots come back.
    public var leaseTTL: Duration
    /// Waiters re-check this often even without a wake-up message.
    public var pollInterval: Duration
    /// How often the shared usage and active tenants are read.
    public var viewRefresh: Duration
    /// Expected relay replicas: local admission (Redis down) gets capacity ÷ this.
    public var replicasHint: Int
    /// `FAIRWAY_SLOT_POOL_IDLE`: how long a finished request's slot idles on this relay for its next request (zero: it
    /// always goes straight back to Redis). Reuse and contention bounds are fixed (``SlotPoolState``).
    public var slotPoolIdle: Duration

    var slotPool: SlotPoolState.Settings {
        SlotPoolState.Settings(idle: slotPoolIdle, maxAge: .seconds(1), contentionWindow: .seconds(1))
    }

    /// How long a slot handed to a waiter by a release stays reserved for it until the waiter confirms it (it polls
    /// every `pollInterval` and is woken at once), so a crashed relay's waiters cannot hold slots for a whole lease.
    public var claimTTL: Duration { min(leaseTTL, max(pollInterval * 20, .seconds(2))) }

    public init(
        halfLife: Double = 300, mode: FairShareCalculator.Mode = .hierarchical, queueTimeout: Duration = .seconds(30),
        maxQueueLength: Int = 1000, leaseTTL: Duration = .seconds(30), pollInterval: Duration = .milliseconds(100),
        viewRefresh: Duration = .milliseconds(250), replicasHint: Int = 1, slotPoolIdle: Duration = .milliseconds(100)
    ) {
        self.halfLife = halfLife
        self.mode = mode
        self.queueTimeout = queueTimeout
        self.maxQueueLength = maxQueueLength
        self.leaseTTL = leaseTTL
        self.pollInterval = pollInterval
        self.viewRefresh = viewRefresh
        self.replicasHint = replicasHint
        self.slotPoolIdle = slotPoolIdle
    }
}
