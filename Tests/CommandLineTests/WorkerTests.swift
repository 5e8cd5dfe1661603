import DelineateTesting
import Foundation
import Store
import Testing

/// Several `delineate worker` processes against one database: each job runs exactly once, and the
/// job of a worker killed with SIGKILL is taken over by another once its lease runs out.
@Suite(.serialized) struct WorkerTests {
    var delineate: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("delineate").path
    }

    /// A running worker: its name and process.
    struct RunningWorker {
        let name: String
        let daemon: DelineateProcess

        var output: String { daemon.output }
        func kill() { daemon.kill() }
    }

    func startWorker(_ name: String, database: TestDatabase, folder: String, leaseSeconds: Int) throws -> RunningWorker
    {
        let arguments = [
            "worker", "--name", name, "--set", "database.url=\(database.url)", "--set", "files.store=\(folder)/store",
            "--set", "worker.lease_seconds=\(leaseSeconds)",
        ]
        return RunningWorker(
            name: name,
            daemon: try DelineateProcess(executable: delineate, arguments: arguments, log: "\(folder)/\(name).log"))
    }

    /// Imports `cases` phantom CT series compressed to JPEG-LS (each becomes a case and queues one
    /// volume.cache job).
    func importPhantoms(cases: Int, size: Int, slices: Int, database: TestDatabase, folder: String) throws {
        _ = try Process.output(
            of: delineate,
            arguments: [
                "phantom", "--cases", "\(cases)", "--seed", "3", "--size", "\(size)", "--slices", "\(slices)", "--out",
                folder + "/in",
            ])
        for index in 1...cases {
            let series = "\(folder)/in/ct-" + String(format: "%03d", index) + "/dicom"
            for file in try FileManager.default.contentsOfDirectory(atPath: series) {
                _ = try Process.output(of: "/usr/bin/dcmcjpls", arguments: ["\(series)/\(file)", "\(series)/\(file)"])
            }
        }
        _ = try Process.output(
            of: delineate,
            arguments: ["import", "--database-url", database.url, "--file-store", folder + "/store", folder + "/in"])
    }

    struct JobRow: Equatable {
        let id: Int
        let status: String
        let attempts: Int
        let lockedBy: String
    }

    func jobs(_ database: TestDatabase) async throws -> [JobRow] {
        try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                "SELECT id, status, attempts, coalesce(locked_by, '') AS locked_by FROM jobs ORDER BY id"
            )
            .records.map {
                JobRow(
                    id: $0.int("id") ?? 0, status: $0["status"] ?? "", attempts: $0.int("attempts") ?? 0,
                    lockedBy: $0["locked_by"] ?? "")
            }
        }
    }

    /// Waits (up to `seconds`) until `condition` holds for the job table.
    func waitFor(
        _ database: TestDatabase, seconds: Double, poll: Duration = .milliseconds(10), _ condition: ([JobRow]) -> Bool
    )
        async throws -> [JobRow]
    {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let rows = try await jobs(database)
            if condition(rows) { return rows }
            try await Task.sleep(for: poll)
        }
        return try await jobs(database)
    }

    @Test func twoWorkersRunEachJobExactlyOnce() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try importPhantoms(cases: 12, size: 192, slices: 16, database: database, folder: folder)
        #expect(try await jobs(database).count == 12)

        let workers = try ["worker-a", "worker-b"].map {
            try startWorker($0, database: database, folder: folder, leaseSeconds: 30)
        }
        let finished = try await waitFor(database, seconds: 120, poll: .milliseconds(100)) { rows in
            rows.allSatisfy { $0.status == "done" }
        }
        for worker in workers { worker.kill() }

        #expect(finished.count == 12 && finished.allSatisfy { $0.status == "done" && $0.attempts == 1 })
        // Each job started exactly once across both workers' logs, by the worker the table names.
        for job in finished {
            let starts = workers.map {
                $0.output.components(separatedBy: "job \(job.id) (volume.cache) started").count - 1
            }
            #expect(starts.reduce(0, +) == 1, "job \(job.id) started \(starts) times")
            let runner = try #require(workers.first { $0.name == job.lockedBy })
            #expect(runner.output.contains("job \(job.id) (volume.cache) done"))
        }
        #expect(Set(finished.map(\.lockedBy)) == ["worker-a", "worker-b"], "one worker did every job")
        let caches = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT count(*) AS n FROM volume_caches").records[0].int("n")
        }
        #expect(caches == 12)
        try await database.drop()
    }

    @Test func theJobOfAKilledWorkerIsTakenOverAfterItsLease() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try importPhantoms(cases: 1, size: 512, slices: 48, database: database, folder: folder)

        let doomed = try startWorker("doomed", database: database, folder: folder, leaseSeconds: 5)
        let claimed = try await waitFor(database, seconds: 60) { $0.first?.lockedBy == "doomed" }
        doomed.kill()
        let job = try #require(claimed.first)
        #expect(job.status == "running" && job.attempts == 1)
        #expect(try await jobs(database).first?.status == "running", "the job finished before the worker was killed")
        #expect(!doomed.output.contains("(volume.cache) done"))

        let rescuer = try startWorker("rescuer", database: database, folder: folder, leaseSeconds: 5)
        let rescued = try await waitFor(database, seconds: 60, poll: .milliseconds(100)) { $0.first?.status == "done" }
        rescuer.kill()
        #expect(rescued == [JobRow(id: job.id, status: "done", attempts: 2, lockedBy: "rescuer")])
        #expect(rescuer.output.contains("job \(job.id) (volume.cache) started, attempt 2"))
        let cached = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT voxel_count FROM volume_caches").records.first?.int("voxel_count")
        }
        #expect(cached == 512 * 512 * 48)
        try await database.drop()
    }
}
