import DelineateTesting
import Foundation
import Logging
import Segmentation
import Store
import Testing

@testable import Server

/// The job queue's work in one process: decoded-volume caches and the retention sweep. Several
/// `delineate worker` processes sharing one queue are tested in CommandLineTests.WorkerTests.
@Suite struct BackgroundWorkTests {
    @Test func aNewCaseQueuesItsVolumeAndOpensFromTheCacheAWorkerWrote() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try FileStore(root: folder + "/store")
        // An uncompressed series decodes as fast as a cache reads: its case queues nothing.
        let plain = try PhantomSeries.write("plain", slices: 3, size: 40, seed: 8, in: folder)
        _ = try await ingestedCase(plain, database: database, files: files)
        #expect(try await JobQueue(pool: database.pool).backlog().counts.isEmpty)

        let series = try PhantomSeries.write("cache", slices: 6, size: 40, seed: 9, in: folder)
        for path in series.paths { _ = try await Process.output(of: "/usr/bin/dcmcjpls", arguments: [path, path]) }
        let caseID = try await ingestedCase(series, database: database, files: files)
        let record = try await CaseRepository(pool: database.pool).find(id: caseID)
        let queued = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT kind, payload::text AS payload, status FROM jobs").records
        }
        #expect(queued.count == 1 && queued[0]["kind"] == "volume.cache" && queued[0]["status"] == "queued")
        #expect(
            try await JobQueue(pool: database.pool).backlog().counts == [
                JobCount(kind: "volume.cache", status: "queued", count: 1)
            ])
        #expect(queued[0]["payload"] == #"{"seriesID": \#(record.seriesID)}"#)

        let volumes = SeriesVolumes(pool: database.pool, files: files)
        #expect(try await volumes.cachedVolume(seriesID: record.seriesID, modality: "CT") == nil)
        let runner = JobRunner(
            pool: database.pool, worker: "test", handlers: [VolumeCacheJob(volumes: volumes)], leaseSeconds: 30,
            logger: Logger(label: "test"))
        #expect(try await runner.runNext())
        #expect(try await runner.runNext() == false)  // nothing else is ready

        let cache = try #require(try await VolumeCacheRepository(pool: database.pool).cache(seriesID: record.seriesID))
        #expect(cache.encoding == "int16-le" && cache.voxelCount == 40 * 40 * 6)  // CT in whole HU
        #expect(
            try await JobQueue(pool: database.pool).backlog().counts == [
                JobCount(kind: "volume.cache", status: "done", count: 1)
            ])
        let cached = try #require(try await volumes.cachedVolume(seriesID: record.seriesID, modality: "CT"))
        let decoded = try await volumes.decodedVolume(seriesID: record.seriesID, modality: "CT")
        #expect(cached.voxels == decoded.voxels && cached.slices == 6 && cached.columns == 40)
        #expect(try await volumes.volume(seriesID: record.seriesID, modality: "CT").voxels == decoded.voxels)

        // A re-assembled series drops its cache: the volume is decoded again until a worker re-caches it.
        let geometry = try #require(try await VolumeRepository(pool: database.pool).volume(seriesID: record.seriesID))
        try await VolumeRepository(pool: database.pool).save(geometry)
        #expect(try await volumes.cachedVolume(seriesID: record.seriesID, modality: "CT") == nil)
        try await database.drop()
    }

    @Test func theCacheCodecKeepsWholeNumbersAsInt16AndTheRestAsFloat32() {
        let whole: [Float] = [-1024, 0, 3071, 32767, -32768]
        let (wholeEncoding, wholeBytes) = VolumeCacheCodec.encode(whole)
        #expect(wholeEncoding == "int16-le" && wholeBytes.count == 10)
        #expect(VolumeCacheCodec.decode(wholeBytes, encoding: wholeEncoding, count: 5) == whole)
        let fractional: [Float] = [0.25, -7.5, 40000]
        let (encoding, bytes) = VolumeCacheCodec.encode(fractional)
        #expect(encoding == "float32-le" && bytes.count == 12)
        #expect(VolumeCacheCodec.decode(bytes, encoding: encoding, count: 3) == fractional)
        #expect(VolumeCacheCodec.decode(Array(bytes.dropLast()), encoding: encoding, count: 3) == nil)
        #expect(VolumeCacheCodec.decode(bytes, encoding: "jpeg", count: 3) == nil)
    }

    @Test func aFailingJobIsRetriedLaterWithTheReason() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let volumes = SeriesVolumes(pool: database.pool, files: try FileStore(root: folder))
        let id = try await JobQueue(pool: database.pool).enqueue(
            kind: "volume.cache", payloadJSON: #"{"seriesID": 99}"#)
        let runner = JobRunner(
            pool: database.pool, worker: "test", handlers: [VolumeCacheJob(volumes: volumes)], leaseSeconds: 30,
            logger: Logger(label: "test"))
        #expect(try await runner.runNext())
        let row = try #require(
            try await database.pool.withConnection { connection throws(StoreError) in
                try connection.execute(
                    "SELECT status, attempts, last_error, run_after > now() AS later FROM jobs WHERE id = $1", [id]
                ).records.first
            })
        #expect(row["status"] == "queued" && row["attempts"] == "1" && row["later"] == "t")
        #expect(row["last_error"]?.contains("the series has no image frames") == true)
        // Not before its retry time. The backoff is seconds, which a loaded machine can spend before
        // the next line: the retry is moved an hour on so that the check does not race the clock.
        try await database.pool.withConnection { connection throws(StoreError) in
            _ = try connection.execute("UPDATE jobs SET run_after = now() + interval '1 hour' WHERE id = $1", [id])
        }
        #expect(try await runner.runNext() == false)
        try await database.drop()
    }

    @Test func retentionDeletesOldFinishedJobsAndExpiredSignInsOnly() async throws {
        let database = try await TestDatabase.create()
        try await database.pool.withConnection { connection throws(StoreError) in
            try connection.executeScript(
                """
                INSERT INTO jobs (kind, status, finished_at) VALUES
                    ('old', 'done', now() - interval '40 days'), ('recent', 'done', now() - interval '1 day');
                INSERT INTO jobs (kind, status, run_after) VALUES ('failed', 'failed', now() - interval '40 days'),
                    ('waiting', 'queued', now() - interval '40 days');
                INSERT INTO users (username, display_name, role, password_hash) VALUES ('u', 'U', 'annotator', 'x');
                INSERT INTO auth_sessions (token_hash, user_id, csrf_token, expires_at) VALUES
                    ('a', 1, 'c', now() - interval '100 days'), ('b', 1, 'c', now() - interval '1 day'),
                    ('c', 1, 'c', now() + interval '1 hour');
                """)
        }
        let sweep = RetentionSweep(
            pool: database.pool, finishedJobDays: 30, expiredSignInDays: 90, logger: Logger(label: "test"))
        #expect(try await sweep.sweep() == (jobs: 2, signIns: 1))
        let kinds = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT kind FROM jobs ORDER BY kind").records.compactMap { $0["kind"] }
        }
        #expect(kinds == ["recent", "waiting"])
        #expect(try await sweep.sweep() == (jobs: 0, signIns: 0))
        try await database.drop()
    }
}
