import Testing

@testable import Relay

@Suite("Request inbox")
struct RequestInboxMachineTests {
    typealias Machine = RequestInboxMachine<String, Int>

    @Test func aRequestThatArrivesFirstIsDeliveredWhenAsked() {
        var machine = Machine()
        guard case .none = machine.arrived("a") else { Issue.record("an arrival with nobody asking is kept"); return }
        guard case .deliver("a") = machine.ask(1) else { Issue.record("the kept request is delivered"); return }
        guard case .suspended = machine.ask(2) else { Issue.record("nothing more: the asker waits"); return }
    }

    @Test func aWaitingTaskIsResumedByTheArrival() {
        var machine = Machine()
        guard case .suspended = machine.ask(7) else { Issue.record("nothing yet: the asker waits"); return }
        guard case .resume(7, "a") = machine.arrived("a") else { Issue.record("the arrival resumes the waiter"); return }
        guard case .suspended = machine.ask(8) else { Issue.record("the inbox is empty again"); return }
    }

    @Test func closingEndsTheWaiterAndEveryLaterAsk() {
        var machine = Machine()
        _ = machine.ask(3)
        guard case .resumeWithEnd(3) = machine.close() else { Issue.record("the waiter learns the end"); return }
        guard case .end = machine.ask(4) else { Issue.record("no request after the end"); return }
        guard case .close = machine.arrived("late") else { Issue.record("an arrival after the end closes"); return }
    }

    @Test func aRequestNotYetTakenIsDroppedAtTheEnd() {
        var machine = Machine()
        _ = machine.arrived("a")
        guard case .none = machine.close() else { Issue.record("nobody was waiting"); return }
        guard case .end = machine.ask(1) else { Issue.record("the dropped request is not delivered"); return }
    }

    @Test func pipelinedRequestsWaitAndAreDeliveredInOrder() {
        var machine = Machine()
        _ = machine.arrived("a")
        guard case .none = machine.arrived("b") else { Issue.record("a second request waits behind the first"); return }
        guard case .none = machine.arrived("c") else { Issue.record("and a third"); return }
        guard case .deliver("a") = machine.ask(1) else { Issue.record("the first comes first"); return }
        guard case .deliver("b") = machine.ask(2) else { Issue.record("then the second"); return }
        guard case .deliver("c") = machine.ask(3) else { Issue.record("then the third"); return }
        guard case .suspended = machine.ask(4) else { Issue.record("then the asker waits"); return }
    }

    @Test func theDateHeaderIsRFC9110sFormatInGMT() {
        #expect(HTTPDateHeader.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDateHeader.format(1_796_100_000) == "Tue, 01 Dec 2026 04:40:00 GMT")
        #expect(HTTPDateHeader.format(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
    }
}
