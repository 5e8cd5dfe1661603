import DelineateTesting
import Foundation
import Testing

@testable import Store

@Suite struct RepositoryTests {
    @Test func indexingTheSameInstanceTwiceIsIdempotent() async throws {
        let database = try await TestDatabase.create()
        let index = InstanceIndex(pool: database.pool)
        let instance = IndexedInstance(
            patientID: "P1", studyInstanceUID: "1.2.3", seriesInstanceUID: "1.2.3.4", modality: "MR",
            sopInstanceUID: "1.2.3.4.5", sopClassUID: "1.2.840.10008.5.1.4.1.1.4", fileSHA256: "ab", fileSize: 10)
        let first = try await index.record(instance)
        let second = try await index.record(instance)
        #expect(first.isNew && !second.isNew)
        #expect(first.seriesID == second.seriesID)
        #expect(try await index.instanceCount(seriesInstanceUID: "1.2.3.4") == 1)
        try await database.drop()
    }

    @Test func worklistFiltersAndPages() async throws {
        let database = try await TestDatabase.create()
        let cases = CaseRepository(pool: database.pool)
        let alice = try await Fixtures.user(in: database.pool, name: "alice")
        for index in 0..<5 {
            let series = try await Fixtures.series(in: database.pool, modality: index < 3 ? "CT" : "MR")
            _ = try await cases.create(seriesID: series, modelID: nil, assigneeID: index % 2 == 0 ? alice.id : nil)
        }
        let ct = try await cases.list(CaseFilter(modality: "CT"))
        #expect(ct.total == 3 && ct.cases.allSatisfy { $0.modality == "CT" })
        let mine = try await cases.list(CaseFilter(assigneeID: alice.id))
        #expect(mine.total == 3)
        let page = try await cases.list(CaseFilter(limit: 2, offset: 4))
        #expect(page.total == 5 && page.cases.count == 1)
        let none = try await cases.list(CaseFilter(status: .accepted))
        #expect(none.total == 0 && none.cases.isEmpty)
        try await database.drop()
    }

    @Test func concurrentWritersDoNotLoseAnUpdate() async throws {
        let database = try await TestDatabase.create()
        let cases = CaseRepository(pool: database.pool)
        let created = try await cases.create(seriesID: try await Fixtures.series(in: database.pool), modelID: nil)
        // Two reviewers read version 1 and both try to change the case; exactly one wins.
        func attempt(_ status: CaseStatus) async -> StoreError? {
            do {
                _ = try await cases.update(id: created.id, expectedVersion: 1, status: status, assigneeID: nil)
                return nil
            } catch {
                return error
            }
        }
        async let first = attempt(.accepted)
        async let second = attempt(.inProgress)
        let outcomes = await [first, second]
        let winners = outcomes.filter { $0 == nil }
        let conflicts = outcomes.filter { $0?.code == .conflict }
        #expect(winners.count == 1 && conflicts.count == 1)
        #expect(try await cases.find(id: created.id).version == 2)
        try await database.drop()
    }

    @Test func aRoundRoundTripsWithItsMask() async throws {
        let database = try await TestDatabase.create()
        let user = try await Fixtures.user(in: database.pool, name: "bob")
        let caseRecord = try await CaseRepository(pool: database.pool).create(
            seriesID: try await Fixtures.series(in: database.pool), modelID: nil)
        var labels = [UInt8](repeating: 0, count: 4 * 3 * 2)
        labels[5] = 1
        labels[6] = 1
        labels[20] = 2
        let clickTime = Date(timeIntervalSince1970: 1_790_000_000.25)
        let rounds = RoundRepository(pool: database.pool)
        _ = try await rounds.commit(
            NewRound(
                caseID: caseRecord.id, userID: user.id, number: 1, kind: .click, sliceIndex: 0,
                durationMilliseconds: 1200, inferenceMilliseconds: 40,
                interactions: [
                    InteractionRecord(
                        sequence: 0, classIndex: 1, sliceIndex: 0, x: 1.5, y: 1, kind: .click,
                        clientTimestamp: clickTime, latencyMilliseconds: 38),
                    InteractionRecord(sequence: 1, classIndex: 0, sliceIndex: 0, x: 3, y: 2, kind: .erase),
                ],
                mask: LabelVolumeData(columns: 4, rows: 3, slices: 2, labels: labels)))
        let stored = try await rounds.interactions(caseID: caseRecord.id)
        #expect(stored.map(\.interaction.kind) == [.click, .erase])
        #expect(stored[0].interaction.x == 1.5 && stored[0].interaction.latencyMilliseconds == 38)
        #expect(abs((stored[0].interaction.clientTimestamp?.timeIntervalSince1970 ?? 0) - 1_790_000_000.25) < 1e-3)
        #expect(try await rounds.latestMask(caseID: caseRecord.id)?.labels == labels)
        #expect(try await CaseRepository(pool: database.pool).find(id: caseRecord.id).status == .inProgress)
        try await database.drop()
    }

    @Test func aRoundWithAFailingStatementLeavesNothing() async throws {
        let database = try await TestDatabase.create()
        let caseRecord = try await CaseRepository(pool: database.pool).create(
            seriesID: try await Fixtures.series(in: database.pool), modelID: nil)
        let rounds = RoundRepository(pool: database.pool)
        // The second interaction repeats the first one's sequence number: the unique key fails mid-round.
        await #expect(throws: StoreError.self) {
            try await rounds.commit(
                NewRound(
                    caseID: caseRecord.id, userID: nil, number: 1, kind: .click,
                    interactions: [
                        InteractionRecord(sequence: 0, classIndex: 1, sliceIndex: 0, x: 1, y: 1, kind: .click),
                        InteractionRecord(sequence: 0, classIndex: 1, sliceIndex: 0, x: 2, y: 2, kind: .click),
                    ],
                    mask: LabelVolumeData(columns: 1, rows: 1, slices: 1, labels: [1])))
        }
        let counts = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                "SELECT (SELECT count(*) FROM rounds) AS r, (SELECT count(*) FROM interactions) AS i, "
                    + "(SELECT count(*) FROM masks) AS m, (SELECT status FROM cases) AS s"
            ).records[0]
        }
        #expect(counts.int("r") == 0 && counts.int("i") == 0 && counts.int("m") == 0)
        #expect(counts["s"] == "new")
        try await database.drop()
    }

    @Test func auditEntriesAreFilteredNewestFirst() async throws {
        let database = try await TestDatabase.create()
        let audit = AuditLog(pool: database.pool)
        try await audit.record(AuditEntry(userID: nil, username: "alice", action: "case.open", patientID: "P1"))
        try await audit.record(AuditEntry(userID: nil, username: "alice", action: "slice.read", patientID: "P2"))
        try await audit.record(
            AuditEntry(
                userID: nil, username: "bob", action: "case.open", patientID: "P1", clientAddress: "10.0.0.7",
                detailJSON: #"{"slices":[1,2]}"#))
        let opens = try await audit.query(actionPrefix: "case.")
        #expect(opens.map(\.username) == ["bob", "alice"])
        #expect(opens[0].clientAddress == "10.0.0.7" && opens[0].detailJSON.contains("slices"))
        #expect(try await audit.query(patientID: "P2").map(\.action) == ["slice.read"])
        try await database.drop()
    }

    @Test func eachJobRunsOnceAndAnExpiredLeaseIsTakenOver() async throws {
        let database = try await TestDatabase.create()
        let queue = JobQueue(pool: database.pool)
        for index in 0..<20 { try await queue.enqueue(kind: "precompute", payloadJSON: #"{"slice":\#(index)}"#) }
        // Two workers drain the queue concurrently.
        func drain(_ worker: String) async throws -> [Int] {
            var done: [Int] = []
            while let job = try await queue.claim(worker: worker, kinds: ["precompute"]) {
                if try await queue.complete(job, worker: worker) { done.append(job.id) }
            }
            return done
        }
        async let a = drain("worker-a")
        async let b = drain("worker-b")
        let all = try await a + b
        #expect(all.count == 20 && Set(all).count == 20)

        // A worker claims and dies; another picks the job up once the lease has run out. The lease is
        // aged in the database rather than waited out: on a loaded machine a one-second lease could
        // expire before the rescuer's first look, which must find nothing.
        let id = try await queue.enqueue(kind: "export")
        let lost = try #require(try await queue.claim(worker: "dying", kinds: ["export"], leaseSeconds: 60))
        #expect(lost.id == id)
        #expect(try await queue.claim(worker: "rescuer", kinds: ["export"]) == nil)
        try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute("UPDATE jobs SET locked_until = now() - interval '1 second' WHERE id = $1", [id])
        }
        let rescued = try #require(try await queue.claim(worker: "rescuer", kinds: ["export"]))
        #expect(rescued.id == id && rescued.attempts == 2)
        #expect(try await queue.complete(lost, worker: "dying") == false)
        #expect(try await queue.complete(rescued, worker: "rescuer"))
        try await database.drop()
    }
}
