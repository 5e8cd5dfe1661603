import Foundation
import Server
import Store
import Testing

@Suite struct AnnotationTimeReportTests {
    static let start = Date(timeIntervalSince1970: 1_794_000_000)  // Friday 2026-11-06 21:20 UTC, ISO week 45

    /// Ann on case 1: two clicks, an erase, a 300 s break, an undone click, a propagation, an accept.
    /// Bob on case 2 ten days later (Monday, week 47). Gaps for Ann: 10, 15, 300 (idle), 5, 70.
    static let events: [AnnotationEvent] = [
        AnnotationEvent(caseID: 1, username: "ann", kind: .click, classIndex: 1, at: start, waitMilliseconds: 50),
        AnnotationEvent(
            caseID: 1, username: "ann", kind: .click, classIndex: 1, at: start + 10, waitMilliseconds: 60),
        AnnotationEvent(
            caseID: 1, username: "ann", kind: .erase, classIndex: 0, at: start + 25, waitMilliseconds: 70),
        AnnotationEvent(
            caseID: 1, username: "ann", kind: .click, classIndex: 2, at: start + 325, waitMilliseconds: 80,
            undone: true),
        AnnotationEvent(caseID: 1, username: "ann", kind: .propagate, at: start + 330, waitMilliseconds: 4_000),
        AnnotationEvent(caseID: 1, username: "ann", round: 2, kind: .accept, at: start + 400),
        AnnotationEvent(
            caseID: 2, username: "bob", modality: "MR", kind: .click, classIndex: 3, at: start + 864_000,
            waitMilliseconds: 40),
        AnnotationEvent(
            caseID: 2, username: "bob", modality: "MR", kind: .click, classIndex: 3, at: start + 864_030,
            waitMilliseconds: 40),
    ]

    @Test func activeTimeExcludesIdleGapsAndCountsWhatWasDone() throws {
        let report = AnnotationTimeReport(events: Self.events.shuffled(), idleThresholdSeconds: 120)
        #expect(report.cases.map(\.caseID) == [1, 2])
        let ann = report.cases[0]
        #expect(ann.activeSeconds == 100 && ann.idleSeconds == 300)
        #expect(ann.clicks == 3 && ann.clicksPerClass == ["1": 2, "0": 1])
        #expect(ann.rounds == 2 && ann.accepted && ann.propagationWaitSeconds == 4)
        #expect(ann.meanClickLatencyMilliseconds == 65)
        #expect(ann.firstAt == Self.start && ann.lastAt == Self.start + 400)
        let bob = report.cases[1]
        #expect(bob.activeSeconds == 30 && bob.idleSeconds == 0 && !bob.accepted && bob.modality == "MR")
        #expect(
            report.weeks == [
                WeeklyEffort(username: "ann", week: "2026-W45", cases: 1, activeSeconds: 100),
                WeeklyEffort(username: "bob", week: "2026-W47", cases: 1, activeSeconds: 30),
            ])
    }

    @Test func aLongerThresholdCountsTheBreakAsWork() {
        let report = AnnotationTimeReport(events: Self.events, idleThresholdSeconds: 600)
        #expect(report.cases[0].activeSeconds == 400 && report.cases[0].idleSeconds == 0)
    }

    @Test func csvHasOneLinePerCaseAndQuotesWhatNeedsIt() {
        var events = Self.events
        events[6].username = "smith, j"
        events[7].username = "smith, j"
        let lines = AnnotationTimeReport(events: events, idleThresholdSeconds: 120).csv.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("case,user,modality,first_at"))
        #expect(
            lines[1].hasPrefix("1,ann,CT,2026-11-06T21:20:00Z,") && lines[1].contains(",100.0,300.0,3,2,true,4.0,65.0"))
        #expect(lines[2].hasPrefix("2,\"smith, j\",MR,"))
    }
}
