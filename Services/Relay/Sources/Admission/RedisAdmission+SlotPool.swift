import FairShare
import FairwayRedis
import Foundation

/// The pool's upkeep: idle slots back to Redis when they have idled or aged out or someone waits for their deployment,
/// and the pooled requests' usage written a few times a second.
extension RedisAdmission {
    /// Runs until cancelled, then gives every idle slot back and writes the last usage.
    func maintainPool() async {
        guard pool.isEnabled else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await deployment in wakeups.contention {
                    giveBack(pool.contended(deployment))
                    await flushUsage()
                }
            }
            group.addTask {
                let tick = min(pool.settings.idle / 2, .milliseconds(50))
                while (try? await Task.sleep(for: tick)) != nil {
                    giveBack(pool.expire())
                    metrics.poolIdle.record(pool.idleCount)
                    await flushUsage()
                }
            }
            await group.next()
            group.cancelAll()
        }
        giveBack(pool.close())
        // Not in this cancelled task: the last usage must still reach Redis.
        await Task { await flushUsage() }.value
    }

    /// Writes the usage booked by pooled requests in one script call; kept for the next call if Redis fails.
    func flushUsage() async {
        let entries = pool.takeUsage()
        guard !entries.isEmpty else { return }
        do {
            _ = try await redis.evaluate(
                AdmissionScripts.settleUsage, keys: [FairShareKeys.usage, FairShareKeys.epoch, FairShareKeys.active],
                arguments: [String(settings.halfLife)] + UsageLedger.rows(entries)
            )
        } catch {
            pool.rebook(entries)
            logger.warning("Writing pooled requests' usage failed; retrying with the next", metadata: ["error": "\(error)"])
        }
    }
}
