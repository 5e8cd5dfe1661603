import DelineateTesting
import DicomKit
import Foundation
import Logging
import Segmentation
import Store
import Testing

@testable import Server

@Suite(.serialized) struct DicomReceiverTests {
    /// Writes a phantom CT series; returns its writer and the files in shuffled order.
    func writeSeries(_ name: String, slices: Int, size: Int = 64, in folder: String) throws -> (
        ImageSeriesWriter, [String]
    ) {
        let series = try PhantomSeries.write(name, slices: slices, size: size, in: folder)
        return (series.writer, series.paths.shuffled())
    }

    func storescu(callingAE: String = "MODALITY", port: Int, files: [String], options: [String] = []) async throws
        -> (status: Int32, output: String)
    {
        let result = try await StoreSCUTool.send(
            files, to: "127.0.0.1", port: port, calledAE: "DELINEATE", callingAE: callingAE, timeoutSeconds: 120,
            options: options)
        return (result.exitStatus, result.output)
    }

    func withReceiver(
        allowed: [String] = [], tlsPort: StorageSCP.Port? = nil,
        _ body: (DicomReceiver, Int, TestDatabase, String) async throws -> Void
    ) async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let port = FreePort.next()
        let ports = [StorageSCP.Port(port)] + (tlsPort.map { [$0] } ?? [])
        let receiver = try DicomReceiver(
            configuration: .init(aeTitle: "DELINEATE", ports: ports, allowedCallingAEs: allowed, quietSeconds: 0),
            files: try FileStore(root: folder + "/store"), pool: database.pool, logger: Logger(label: "test"))
        try await body(receiver, port, database, folder)
        receiver.stop()
        try await database.drop()
    }

    @Test func aShuffledSeriesSentWithStorescuLandsAndAssembles() async throws {
        try await withReceiver { receiver, port, database, folder in
            let (writer, files) = try writeSeries("ordered", slices: 40, in: folder)
            let sent = try await storescu(port: port, files: files)
            #expect(sent.status == 0, "\(sent.output)")
            let results = try await receiver.assembleQuietSeries()
            #expect(results.count == 1)
            guard case .assembled(let plan, let caseID) = results.first?.outcome else {
                Issue.record("series was not assembled: \(results)")
                return
            }
            #expect(caseID != nil)
            #expect(plan.geometry.slices == 40 && plan.flags.isEmpty)
            let expectedSources: [String] = (0..<40).map { writer.instanceUID(slice: $0) }
            #expect(plan.frames.map(\.sopInstanceUID) == expectedSources)
            for (index, position) in plan.geometry.slicePositions.enumerated() {
                #expect(abs(position.z - (100 + 2 * Double(index))) < 1e-4)
                #expect(position.x == -20 && position.y == -30)
            }
            let stored = try #require(
                try await VolumeRepository(pool: database.pool).volume(seriesID: results[0].seriesID))
            #expect(stored.slices == 40 && stored.spacing == [0.9, 0.9, 2])
        }
    }

    @Test func refusesBadInstancesAndUnknownCallers() async throws {
        try await withReceiver(allowed: ["MODALITY"]) { receiver, port, database, folder in
            let (_, files) = try writeSeries("bad", slices: 1, in: folder)
            let noPatient = try DicomFile(path: files[0])
            try noPatient.set(.patientID, "")
            try noPatient.write(to: folder + "/no-patient.dcm")
            let refused = try await storescu(port: port, files: [folder + "/no-patient.dcm"])
            #expect(refused.output.contains("DataSetDoesNotMatchSOPClass"), "\(refused.output)")

            let stranger = try await storescu(callingAE: "STRANGER", port: port, files: files)
            #expect(stranger.status != 0)
            #expect(stranger.output.contains("Association Rejected") || stranger.output.contains("rejected"))

            let count = try await database.pool.withConnection { connection throws(StoreError) in
                try connection.execute("SELECT count(*) AS n FROM instances").records[0].int("n")
            }
            #expect(count == 0)
            #expect(try await receiver.assembleQuietSeries().isEmpty)
        }
    }

    @Test func theTLSPortTakesCallersWithATrustedCertificateOnly() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let tlsPort = FreePort.next()
        let tls = TLSSettings(
            certificate: certificates.serverCertificate, privateKey: certificates.serverKey,
            trustedCertificates: certificates.authority)
        try await withReceiver(tlsPort: .init(tlsPort, tls: tls)) { receiver, port, database, folder in
            let (_, files) = try writeSeries("secure", slices: 3, in: folder)
            let verifyingUs = ["+cf", certificates.authority]
            let trusted = try await storescu(
                port: tlsPort, files: files,
                options: ["+tls", certificates.clientKey, certificates.clientCertificate] + verifyingUs)
            #expect(trusted.status == 0, "\(trusted.output)")

            let (_, strangerFiles) = try writeSeries("stranger", slices: 2, in: folder)
            let untrusted = try await storescu(
                port: tlsPort, files: strangerFiles,
                options: ["+tls", certificates.unrelatedAuthorityKey, certificates.unrelatedAuthority] + verifyingUs)
            #expect(untrusted.status != 0, "\(untrusted.output)")
            let anonymous = try await storescu(port: tlsPort, files: strangerFiles, options: ["+tla"] + verifyingUs)
            #expect(anonymous.status != 0, "\(anonymous.output)")
            let plainToTLS = try await storescu(port: tlsPort, files: strangerFiles)
            #expect(plainToTLS.status != 0, "\(plainToTLS.output)")

            let (_, plainFiles) = try writeSeries("plain", slices: 2, in: folder)
            let plain = try await storescu(port: port, files: plainFiles)
            #expect(plain.status == 0, "\(plain.output)")

            let series = try await receiver.assembleQuietSeries()
            #expect(series.count == 2)
            let count = try await database.pool.withConnection { connection throws(StoreError) in
                try connection.execute("SELECT count(*) AS n FROM instances").records[0].int("n")
            }
            #expect(count == 5)
        }
    }

    @Test func eightAssociationsAtOnceAllLand() async throws {
        try await withReceiver { receiver, port, database, folder in
            let series = try (0..<8).map { try writeSeries("parallel\($0)", slices: 6, size: 32, in: folder).1 }
            let statuses = try await withThrowingTaskGroup(of: Int32.self) { group in
                for files in series {
                    group.addTask { try await storescu(port: port, files: files).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 0, count: 8))
            let assembled = try await receiver.assembleQuietSeries()
            #expect(assembled.count == 8)
        }
    }
}
