import Foundation
import Synchronization

/// This relay's idle slots (``SlotPoolState``) and the usage of the requests they served (``UsageLedger``), behind one
/// lock. ``RedisAdmission`` takes from it, and gives back to Redis what it is told to.
final class SlotPool: Sendable {
    private struct Books {
        var slots: SlotPoolState
        var usage = UsageLedger()
    }

    private let books: Mutex<Books>
    let settings: SlotPoolState.Settings

    init(settings: SlotPoolState.Settings) {
        self.settings = settings
        books = Mutex(Books(slots: SlotPoolState(settings: settings)))
    }

    /// Whether a request may use a pooled slot: the deployment's concurrency is its only limit (no tenant cap, TPM
    /// quota or deployment RPM/TPM limit, which Redis must count per request).
    func accepts(_ request: AdmissionRequest) -> Bool {
        isEnabled && request.deployment.maxConcurrency != nil && request.deployment.rpmLimit == nil
            && request.deployment.tpmLimit == nil && request.tenant.maxConcurrency == nil && request.tenant.tokensPerMinute == 0
    }

    var isEnabled: Bool { settings.idle > .zero }

    func take(for request: AdmissionRequest) -> SlotPoolState.Slot? {
        books.withLock { $0.slots.take(request.deployment.id, now: .now) }
    }

    /// A request on a poolable slot has ended: its usage is booked (less the estimate Redis charged, if Redis granted
    /// the slot for it), and the slot idles here or goes back.
    func finish(_ slot: SlotPoolState.Slot, cost: Double, charged: (amount: String, epoch: String)?) -> SlotPoolState.Return {
        let tenant = slot.owner.tenant.id
        var idle = slot
        // An idle slot must not keep the finished request's connection alive.
        idle.owner.clientConnected = { true }
        return books.withLock { books in
            books.usage.charge(tenant, cost: cost)
            if let charged { books.usage.refund(tenant, charged: charged.amount, epoch: charged.epoch) }
            return books.slots.put(idle, deployment: idle.owner.deployment.id, now: .now)
        }
    }

    func contended(_ deployment: UUID) -> [SlotPoolState.Slot] {
        books.withLock { $0.slots.contended(deployment, now: .now) }
    }

    func expire() -> [SlotPoolState.Slot] {
        books.withLock { $0.slots.expire(now: .now) }
    }

    func close() -> [SlotPoolState.Slot] {
        books.withLock { $0.slots.close() }
    }

    /// The usage booked since the last call.
    func takeUsage() -> [UUID: UsageLedger.Entry] {
        books.withLock { $0.usage.take() }
    }

    /// Books usage again that could not be written (Redis unreachable), to go with the next flush.
    func rebook(_ entries: [UUID: UsageLedger.Entry]) {
        books.withLock { books in
            for (tenant, entry) in entries {
                books.usage.charge(tenant, cost: entry.cost)
                for (epoch, amount) in entry.refunds {
                    books.usage.refund(tenant, charged: amount.description, epoch: epoch)
                }
            }
        }
    }

    var idleCount: Int { books.withLock { $0.slots.idleCount } }
}
