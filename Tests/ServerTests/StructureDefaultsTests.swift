import DelineateTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Store
import Testing

@testable import Server

/// `structures.defaults`: a case of the configured kind opens with its structures already named,
/// with their standard codes, once.
@Suite struct StructureDefaultsTests {
    @Test func aNewCaseOfTheKindOpensWithItsStructuresNamed() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try FileStore(root: folder + "/store")
        let series = try PhantomSeries.write("defaults", slices: 4, size: 32, seed: 7, in: folder)
        let caseID = try await ingestedCase(series, database: database, files: files)
        _ = try await UserRepository(pool: database.pool).create(
            username: "rita", displayName: "Rita", role: .reviewer,
            passwordHash: PasswordHasher.hash("defaults-password", cost: 4))
        let defaults = try ["MR HEAD: brain", "CT: liver, spleen, left kidney"].map(StructureDefaults.init(parsing:))
        let app = DelineateApplication.make(
            configuration: ServerConfiguration(
                httpPort: 0, databaseURL: database.url, structureDefaults: defaults, webRoot: nil),
            pool: database.pool, files: files, logger: Logger(label: "test"), models: CaseAPITests.models)
        try await app.test(.router) { client in
            let token = try await bearerToken(client, username: "rita", password: "defaults-password")
            func structures() async throws -> [[String: Any]] {
                let detail = try await client.execute(
                    uri: "/api/v1/cases/\(caseID)", method: .get, headers: [.authorization: "Bearer \(token)"])
                #expect(detail.status == .ok, "\(String(buffer: detail.body))")
                let json = try JSONSerialization.jsonObject(with: Data(detail.body.readableBytesView)) as? [String: Any]
                return json?["structures"] as? [[String: Any]] ?? []
            }
            let named = try await structures()
            #expect(named.map { $0["name"] as? String } == ["liver", "spleen", "left kidney"])
            #expect((named.first?["type"] as? [String])?[1] == "10200004")
            #expect((named.last?["modifier"] as? [String])?[1] == "7771000")
            // Opened again: the same three, not three more.
            #expect(try await structures().count == 3)
            // MONAI Label's plugins list the default structures after the model's classes.
            let info = try await client.execute(
                uri: "/monailabel/info/", method: .get, headers: [.authorization: "Bearer \(token)"])
            let body = try JSONSerialization.jsonObject(with: Data(info.body.readableBytesView)) as? [String: Any]
            #expect(
                (body?["labels"] as? [String])?.suffix(4) == ["brain", "liver", "spleen", "left kidney"],
                "\(body?["labels"] ?? "none")")
            let deepEdit = (body?["models"] as? [String: Any])?["sim"] as? [String: Any]
            #expect((deepEdit?["labels"] as? [String: Int])?["left kidney"] == 9)
        }
        try await database.drop()
    }

    @Test func aDefaultSetThatCannotBeCodedStopsTheStart() {
        #expect(throws: SettingsError.self) { try StructureDefaults(parsing: "CT: liver, blob") }
        #expect(throws: SettingsError.self) { try StructureDefaults(parsing: "liver, spleen") }
        let parsed = try? StructureDefaults(parsing: "ct abdomen: liver")
        #expect(parsed?.rule.matches(modality: "CT", bodyPart: "abdomen", description: "") == true)
        #expect(parsed?.rule.matches(modality: "CT", bodyPart: "CHEST", description: "") == false)
    }
}
