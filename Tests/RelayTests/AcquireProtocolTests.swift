import FairShare
import FairwayCore
import FairwayRedis
import Foundation
import Testing

@testable import Relay

@Suite("Admission protocol and waiter")
struct AcquireProtocolTests {
    @Test func argumentsAreInTheScriptsOrderWithAbsentLimitsAsZero() {
        let tenant = Tenant(id: UUID(), name: "t", tokensPerMinute: 600, maxConcurrency: 3)
        let deployment = Deployment(
            id: UUID(), modelName: "m", provider: .openai, upstreamModel: "u", apiBase: "http://x/v1", admissionWeight: 2, maxConcurrency: 8, rpmLimit: 60
        )
        let settings = AdmissionSettings(
            halfLife: 300, mode: .flat, queueTimeout: .seconds(30), maxQueueLength: 100, leaseTTL: .seconds(30),
            pollInterval: .milliseconds(100), viewRefresh: .milliseconds(250), replicasHint: 1
        )
        let request = AcquireRequest(AdmissionRequest(tenant: tenant, deployment: deployment, estimatedTokens: 50, requestID: UUID()), lease: "L", share: 0.25, settings: settings)
        let texts = request.arguments(register: true).map { String(decoding: $0.redisBytes, as: UTF8.self) }
        #expect(texts == [
            "L", "L", "0.25", "8", "3", "30000", "2000", "100", tenant.id.lowercaseText, "50", "600", "100.0", "300.0", "1",
            FairShareKeys.wakeChannel, deployment.id.lowercaseText, "60", "0", FairShareKeys.contentionChannel, "250",
        ])
        #expect(request.keys.count == 12 && request.keys[0] == FairShareKeys.slots(deployment: deployment.id))
        #expect(request.keys[11] == FairShareKeys.contended(deployment: deployment.id))
        #expect(String(decoding: request.arguments(register: false)[13].redisBytes, as: UTF8.self) == "0")
    }

    @Test func repliesAreDecodedByTag() {
        func reply(_ items: [String]) -> AcquireReply { AcquireReply(.array(items.map { .bulkString(Array($0.utf8)) })) }
        #expect(reply(["admitted", "4", "12.5", "1700000000.5"]) == .admitted(inFlight: 4, charged: "12.5", epoch: "1700000000.5"))
        #expect(reply(["wait"]) == .wait)
        #expect(reply(["queue_full"]) == .queueFull)
        #expect(reply(["quota", "7"]) == .overQuota(retryAfterSeconds: 7))
        #expect(reply(["headroom", "0"]) == .noHeadroom(retryAfterSeconds: 1))
        #expect(reply(["admitted", "4"]) == .malformed)
        #expect(reply([]) == .malformed)
        #expect(AcquireReply(.integer(1)) == .malformed)
        #expect(reply(["1", "0", "0"]) == .malformed, "the old numeric statuses are not read as anything")
    }

    @Test func aWaiterSleepsUntilItsDeadlineAndLeavesWhenItsClientDoes() {
        let start = ContinuousClock.now
        var waiter = WaiterMachine(now: start, queueTimeout: .milliseconds(250), pollInterval: .milliseconds(100))
        #expect(!waiter.waiting)
        #expect(waiter.afterWait(now: start, abandoned: false) == .sleep(.milliseconds(100), joined: true))
        #expect(waiter.waiting)
        #expect(waiter.afterWait(now: start + .milliseconds(100), abandoned: false) == .sleep(.milliseconds(100), joined: false))
        #expect(waiter.afterWait(now: start + .milliseconds(200), abandoned: false) == .sleep(.milliseconds(50), joined: false), "never past the deadline")
        #expect(waiter.afterWait(now: start + .milliseconds(250), abandoned: false) == .giveUp(.capacityExceeded(retryAfterSeconds: 1)))

        var leaving = WaiterMachine(now: start, queueTimeout: .seconds(30), pollInterval: .milliseconds(100))
        #expect(leaving.afterWait(now: start, abandoned: true) == .giveUp(.cancelled))
        #expect(!leaving.waiting, "gave up before ever sleeping: it never counted as queued")
    }
}
