import DelineateTesting
import DicomKit
import Foundation
import FoundationNetworking
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Store
import Testing

@testable import Server

@Suite struct HealthTests {
    func configuration(database: TestDatabase, pacs: [PacsDestination]) -> ServerConfiguration {
        ServerConfiguration(httpPort: 0, databaseURL: database.url, pacs: pacs)
    }

    @Test func reportsDatabaseAndPacsUp() async throws {
        let database = try await TestDatabase.create()
        // The same Orthanc twice: by C-ECHO, and as a DICOMweb service.
        let orthanc = [
            PacsDestination(
                .cStore(
                    DicomNode(
                        aeTitle: DevServices.orthancAE, host: DevServices.orthancHost,
                        port: DevServices.orthancDicomPort))),
            try PacsDestination(parsing: DevServices.orthancURL + "/dicom-web"),
        ]
        let app = DelineateApplication.make(
            configuration: configuration(database: database, pacs: orthanc), pool: database.pool,
            files: try FileStore(root: NSTemporaryDirectory() + UUID().uuidString), logger: Logger(label: "test"))
        try await app.test(.live) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let report = try JSONDecoder().decode(HealthReport.self, from: Data(String(buffer: response.body).utf8))
                #expect(report.status == "ok")
                #expect(report.database.status == "up")
                #expect(report.database.detail.hasPrefix("PostgreSQL 15"))
                #expect(report.pacs.status == "up", "\(report.pacs.detail)")
                #expect(report.pacs.detail.contains("C-ECHO") && report.pacs.detail.contains("STOW-RS"))
            }
        }
        try await database.drop()
    }

    @Test func reportsA503WhenTheDatabaseIsDown() async throws {
        let database = try await TestDatabase.create()
        let unreachable = DatabasePool(url: "postgresql://delineate@127.0.0.1:1/none", size: 1)
        let closedPacs = [PacsDestination(.cStore(DicomNode(aeTitle: "NOBODY", host: "127.0.0.1", port: 1)))]
        let app = DelineateApplication.make(
            configuration: configuration(database: database, pacs: closedPacs), pool: unreachable,
            files: try FileStore(root: NSTemporaryDirectory() + UUID().uuidString), logger: Logger(label: "test"))
        try await app.test(.live) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let report = try JSONDecoder().decode(HealthReport.self, from: Data(String(buffer: response.body).utf8))
                #expect(report.database.status == "down")
                #expect(report.pacs.status == "down")
            }
        }
        try await database.drop()
    }

    @Test func servesHTTPSWithASecureSessionCookie() async throws {
        let database = try await TestDatabase.create()
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        _ = try await UserRepository(pool: database.pool).create(
            username: "admin", displayName: "Admin", role: .admin,
            passwordHash: PasswordHasher.hash("correct horse", cost: 4))
        var configuration = configuration(database: database, pacs: [])
        configuration.https = try HTTPSSettings(
            certificateChain: certificates.serverCertificate, privateKey: certificates.serverKey)
        let app = DelineateApplication.make(
            configuration: configuration, pool: database.pool,
            files: try FileStore(root: NSTemporaryDirectory() + UUID().uuidString), logger: Logger(label: "test"))
        try await app.test(.ahc(.https)) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
            let login = try await client.execute(
                uri: "/api/v1/login", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"username": "admin", "password": "correct horse"}"#))
            #expect(login.status == .ok)
            let cookie = login.headers[.setCookie] ?? ""
            #expect(cookie.contains("HttpOnly") && cookie.hasSuffix("; Secure"), "\(cookie)")
        }
        #expect(throws: (any Error).self) {
            try HTTPSSettings(
                certificateChain: certificates.folder + "/missing.pem", privateKey: certificates.serverKey)
        }
        try await database.drop()
    }

    @Test func orthancAnswersItsSystemEndpoint() async throws {
        let (data, response) = try await URLSession.shared.data(from: URL(string: DevServices.orthancURL + "/system")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let system = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(system?["DicomAet"] as? String == DevServices.orthancAE)
    }
}
