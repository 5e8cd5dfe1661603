import DelineateTesting
import DicomKit
import Evaluation
import Foundation
import Logging
import Segmentation
import Store
import Testing

@testable import Server

@Suite struct ExportTests {
    /// Ingests a phantom series, assembles it and commits its ground truth as the round's mask; returns the case id and study UID.
    func caseWithMask(_ name: String, database: TestDatabase, files: FileStore, folder: String) async throws -> (
        Int, String
    ) {
        let series = try PhantomSeries.write(name, slices: 8, size: 40, seed: 31, in: folder)
        let caseID = try await ingestedCase(series, database: database, files: files)
        _ = try await RoundRepository(pool: database.pool).commit(
            NewRound(
                caseID: caseID, userID: nil, number: 1, kind: .propagate,
                mask: LabelVolumeData(columns: 40, rows: 40, slices: 8, labels: series.phantom.labels)))
        return (caseID, series.writer.series.studyInstanceUID)
    }

    /// Runs `body` with a fresh database, a file store in a temporary folder and a private Orthanc
    /// (over TLS, or behind a login, when asked), and removes them afterwards.
    func withFixture(
        tls: TestCertificates? = nil, login: (user: String, password: String)? = nil,
        _ body: (TestDatabase, FileStore, String, OrthancInstance) async throws -> Void
    ) async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try FileStore(root: folder + "/store")
        let pacs = try await OrthancInstance(tls: tls, login: login)
        try await body(database, files, folder, pacs)
        await pacs.stop()
        try await database.drop()
    }

    @Test func acceptedCaseReachesOrthancAndSurvivesAnOutage() async throws {
        try await withFixture { database, files, folder, pacs in
            let node = DicomNode(aeTitle: pacs.aeTitle, host: "127.0.0.1", port: pacs.dicomPort)
            let acceptance = CaseAcceptance(files: files, pool: database.pool)
            let worker = ExportWorker(
                files: files, pool: database.pool, callingAE: "DELINEATE", logger: Logger(label: "test"),
                baseDelay: 0.01,
                maximumDelay: 0.05)

            // Delivered at once, found by QIDO-RS and the REST API.
            let (first, study) = try await caseWithMask("first", database: database, files: files, folder: folder)
            let sop = try await acceptance.accept(
                caseID: first, creatorName: "Smith^Rachel", destinations: [PacsDestination(.cStore(node))])
            #expect(try await worker.deliverDue() == (1, 0))
            let qido = String(
                decoding: try await pacs.get("/dicom-web/studies/\(study)/series?Modality=SEG"), as: UTF8.self)
            #expect(qido.contains("\"SEG\""))
            let found = String(
                decoding: try await pacs.get("/dicom-web/studies/\(study)/instances?SOPInstanceUID=\(sop)"),
                as: UTF8.self)
            #expect(found.contains(sop))
            // Orthanc's own REST API lists the instance with its SOP Instance UID too.
            let ids = try JSONSerialization.jsonObject(with: try await pacs.get("/instances")) as? [String] ?? []
            var sopUIDs: [String] = []
            for id in ids {
                let tags = try JSONSerialization.jsonObject(
                    with: try await pacs.get("/instances/\(id)/simplified-tags"))
                if let uid = (tags as? [String: Any])?["SOPInstanceUID"] as? String { sopUIDs.append(uid) }
            }
            #expect(sopUIDs.contains(sop))
            #expect(try await CaseRepository(pool: database.pool).find(id: first).status == .exported)

            // PACS down: the export waits with the reason, and goes out once the PACS is back.
            await pacs.stop()
            let (second, secondStudy) = try await caseWithMask(
                "second", database: database, files: files, folder: folder)
            _ = try await acceptance.accept(
                caseID: second, creatorName: "Smith^Rachel", destinations: [PacsDestination(.cStore(node))])
            #expect(try await worker.deliverDue() == (0, 1))
            let waiting = try await ExportRepository(pool: database.pool).exports(caseID: second)
            #expect(waiting.first?.status == "pending" && waiting.first?.lastError.isEmpty == false)
            #expect(try await CaseRepository(pool: database.pool).find(id: second).status == .accepted)
            try await pacs.start()
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await worker.deliverDue() == (1, 0))
            let delivered = String(
                decoding: try await pacs.get("/dicom-web/studies/\(secondStudy)/series"), as: UTF8.self)
            #expect(delivered.contains("\"SEG\""))

            // Re-sending the same accepted state is idempotent: same SOP Instance UID, one instance in the PACS.
            let nodeID = try await PacsDestination(.cStore(node)).register(in: ExportRepository(pool: database.pool))
            try await ExportRepository(pool: database.pool).resend(caseID: first, nodeID: nodeID)
            #expect(try await worker.deliverDue() == (1, 0))
            let instances =
                try JSONSerialization.jsonObject(
                    with: try await pacs.get("/dicom-web/studies/\(study)/instances?Modality=SEG")) as? [Any]
            #expect(instances?.count == 1)
        }
    }

    @Test func aRefusedAssociationIsReportedWithItsReason() async throws {
        try await withFixture { database, files, folder, pacs in
            let (caseID, _) = try await caseWithMask("refused", database: database, files: files, folder: folder)
            let wrongAE = DicomNode(aeTitle: "NOT_THE_PACS", host: "127.0.0.1", port: pacs.dicomPort)
            _ = try await CaseAcceptance(files: files, pool: database.pool).accept(
                caseID: caseID, creatorName: "A^B", destinations: [PacsDestination(.cStore(wrongAE))])
            let worker = ExportWorker(
                files: files, pool: database.pool, callingAE: "DELINEATE", logger: Logger(label: "test"))
            #expect(try await worker.deliverDue() == (0, 1))
            let export = try #require(try await ExportRepository(pool: database.pool).exports(caseID: caseID).first)
            #expect(
                export.lastError.contains("NOT_THE_PACS") && export.lastError.lowercased().contains("reject"),
                "\(export.lastError)")
        }
    }

    /// The SEG's SOP Instance UIDs Orthanc holds in a study, by QIDO-RS.
    func segInstances(in study: String, of pacs: OrthancInstance) async throws -> String {
        String(decoding: try await pacs.get("/dicom-web/studies/\(study)/instances?Modality=SEG"), as: UTF8.self)
    }

    @Test func deliversOverTLSOnlyToAPacsWhoseCertificateWeTrust() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        try await withFixture(tls: certificates) { database, files, folder, pacs in
            let node = DicomNode(aeTitle: pacs.aeTitle, host: "127.0.0.1", port: pacs.dicomPort, useTLS: true)
            let (caseID, study) = try await caseWithMask("tls", database: database, files: files, folder: folder)
            let sop = try await CaseAcceptance(files: files, pool: database.pool).accept(
                caseID: caseID, creatorName: "Smith^Rachel", destinations: [PacsDestination(.cStore(node))])
            func worker(trusting authority: String) -> ExportWorker {
                ExportWorker(
                    files: files, pool: database.pool, callingAE: "DELINEATE",
                    tls: TLSSettings(
                        certificate: certificates.clientCertificate, privateKey: certificates.clientKey,
                        trustedCertificates: authority), logger: Logger(label: "test"), baseDelay: 0.01,
                    maximumDelay: 0.02)
            }

            // Trusting another authority, we refuse the PACS's certificate and nothing is sent.
            #expect(try await worker(trusting: certificates.unrelatedAuthority).deliverDue() == (0, 1))
            let refused = try #require(try await ExportRepository(pool: database.pool).exports(caseID: caseID).first)
            #expect(refused.useTLS && refused.lastError.contains("(TLS)"), "\(refused.lastError)")
            #expect(!(try await segInstances(in: study, of: pacs)).contains(sop))

            // Without TLS settings at all, the reason says so.
            let unconfigured = ExportWorker(
                files: files, pool: database.pool, callingAE: "DELINEATE", logger: Logger(label: "test"),
                baseDelay: 0.01, maximumDelay: 0.02)
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await unconfigured.deliverDue() == (0, 1))
            let waiting = try #require(try await ExportRepository(pool: database.pool).exports(caseID: caseID).first)
            #expect(waiting.lastError.contains("no TLS certificates are configured"), "\(waiting.lastError)")

            // Trusting the right authority: C-ECHO and C-STORE over TLS, and the SEG is in the PACS.
            try await node.echo(
                callingAE: "DELINEATE",
                tls: TLSSettings(
                    certificate: certificates.clientCertificate, privateKey: certificates.clientKey,
                    trustedCertificates: certificates.authority))
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await worker(trusting: certificates.authority).deliverDue() == (1, 0))
            #expect(try await segInstances(in: study, of: pacs).contains(sop))
        }
    }

    @Test func deliversByStowRSWithCredentialsThatAreNeverStored() async throws {
        try await withFixture(login: (user: "stow", password: "s3cret")) { database, files, folder, pacs in
            let base = "127.0.0.1:\(pacs.httpPort)/dicom-web"
            let right = try PacsDestination(parsing: "http://stow:s3cret@\(base)/")
            let wrong = try PacsDestination(parsing: "http://stow:guess@\(base)")
            #expect(right.name == "http://\(base)" && right.name == wrong.name)
            func worker(_ destination: PacsDestination) -> ExportWorker {
                ExportWorker(
                    files: files, pool: database.pool, callingAE: "DELINEATE", destinations: [destination],
                    logger: Logger(label: "test"), baseDelay: 0.01, maximumDelay: 0.02)
            }
            let (caseID, study) = try await caseWithMask("stow", database: database, files: files, folder: folder)
            // A FRACTIONAL SEG this time: certain inside every class, a faint halo of 0.2 elsewhere.
            let labels = try #require(try await RoundRepository(pool: database.pool).latestMask(caseID: caseID)).labels
            let fractions = Dictionary(
                uniqueKeysWithValues: (1...5).map { label in
                    (UInt8(label), labels.map { $0 == label ? UInt8(255) : 51 })
                })
            let sop = try await CaseAcceptance(files: files, pool: database.pool).accept(
                caseID: caseID, creatorName: "Smith^Rachel", destinations: [right], fractions: fractions)

            // A wrong password: the service's 401 is the recorded reason, and the export waits.
            #expect(try await worker(wrong).deliverDue() == (0, 1))
            let refused = try #require(try await ExportRepository(pool: database.pool).exports(caseID: caseID).first)
            #expect(refused.lastError.contains("HTTP 401"), "\(refused.lastError)")
            #expect(refused.dicomwebURL == "http://\(base)" && !refused.lastError.contains("s3cret"))

            try await Task.sleep(for: .milliseconds(50))
            #expect(try await worker(right).deliverDue() == (1, 0))
            #expect(try await segInstances(in: study, of: pacs).contains(sop))
            let metadata = String(
                decoding: try await pacs.get(
                    "/dicom-web/studies/\(study)/instances?SOPInstanceUID=\(sop)&includefield=00620001"),
                as: UTF8.self)
            #expect(metadata.contains("FRACTIONAL"), "\(metadata)")
            #expect(try await CaseRepository(pool: database.pool).find(id: caseID).status == .exported)
        }
    }
}
