import DicomKit
import Foundation
import Server
import Store
import Testing

/// The configuration file, its environment overrides and the errors that name the key.
@Suite struct SettingsTests {
    let database = ["DELINEATE_DATABASE_URL": "postgresql://delineate@db.example/delineate"]

    func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The error message of a configuration that does not load.
    func failure(_ text: String?, environment: [String: String] = [:], overrides: [String] = []) throws -> String {
        let path = try text.map(file)
        defer { path.map { try? FileManager.default.removeItem(atPath: $0) } }
        do {
            _ = try SettingsLoader(environment: environment).load(file: path, overrides: overrides)
            return "loaded"
        } catch {
            return error.description
        }
    }

    @Test func theFileThenTheEnvironmentThenSetOverridesWin() throws {
        let path = try file(
            """
            database:
              url: postgresql://from-file/delineate
              pool_size: 3
            http:
              port: 9000
              host: 0.0.0.0
            dicom:
              allowed_callers: [CT1, " PACS "]
            pacs:
              destinations:
                - ORTHANC@pacs.example:4242
                - https://reader:secret@pacs.example/dicom-web
            worker:
              inline: false
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loader = SettingsLoader(environment: ["DELINEATE_HTTP_PORT": "9100", "DELINEATE_CASE_MODALITIES": "CT"])
        let settings = try loader.load(file: path, overrides: ["http.host=10.0.0.5", "http.web_root="])
        #expect(settings.databaseURL == "postgresql://from-file/delineate" && settings.databasePoolSize == 3)
        #expect(settings.httpPort == 9100)  // the environment over the file
        #expect(settings.httpHost == "10.0.0.5" && settings.webRoot.isEmpty)  // --set over both, empty too
        #expect(settings.caseModalities == ["CT"] && settings.allowedCallers == ["CT1", " PACS "])
        #expect(settings.inlineWorker == false && settings.dicomPort == 11112)  // untouched keys keep defaults
        #expect(try settings.destinations().count == 2)
        let printed = loader.describe(settings)
        #expect(
            printed.contains("pacs.destinations: ORTHANC@pacs.example:4242,https://reader:***@pacs.example/dicom-web"))
        #expect(!printed.contains("reader:secret"))
    }

    @Test func everyErrorNamesTheKeyAndWhereTheValueCameFrom() throws {
        let misspelt = try failure("http:\n  prot: 8080\n", environment: database)
        #expect(
            misspelt.hasPrefix("configuration: http.prot (/")
                && misspelt.hasSuffix(" line 2) is not a configuration key"))
        let notANumber = try failure("http:\n  port: eighty\n", environment: database)
        #expect(notANumber.hasPrefix("configuration: http.port (/"))
        #expect(notANumber.hasSuffix(" line 2): expected a whole number, found 'eighty'"))
        #expect(
            try failure(nil, environment: database.merging(["DELINEATE_DICOM_PORT": "70000"]) { $1 })
                == "configuration: dicom.port (environment variable DELINEATE_DICOM_PORT): 70000 is outside 0...65535")
        #expect(
            try failure(nil, environment: database, overrides: ["worker.inline=maybe"])
                == "configuration: worker.inline (--set): expected true or false, found 'maybe'")
        #expect(
            try failure(nil, environment: database, overrides: ["dicom.quiet_seconds=nan"])
                == "configuration: dicom.quiet_seconds (--set): nan is outside 0.1...86400.0")
        #expect(try failure("database: [1, 2]\n", environment: database).contains("database ("))
        #expect(try failure("http:\n  port: [1, 2]\n", environment: database).contains("http.port"))
        #expect(try failure("[not, a, mapping]\n").contains("the top level must be a mapping"))
        #expect(try failure("http: {port: 1\n").contains("is not valid YAML"))
        #expect(try failure(nil).contains("database.url is not set"))
        #expect(
            try failure(nil, environment: database, overrides: ["seg.type=probability"])
                == "configuration: seg.type is binary or fractional, not 'probability'")
        #expect(
            try failure(nil, environment: database, overrides: ["cases.description=(["]).contains("cases.description"))
        #expect(
            try failure(nil, environment: database, overrides: ["pacs.destinations=nowhere"]).contains(
                "pacs.destinations"))
        #expect(
            try failure(nil, environment: database, overrides: ["http.certificate_chain=/missing.pem"])
                == "configuration: http.certificate_chain and http.private_key go together")
        #expect(
            try failure(
                nil, environment: database,
                overrides: ["http.certificate_chain=/missing.pem", "http.private_key=/missing.key"])
                == "configuration: http.certificate_chain: cannot read '/missing.pem'")
        #expect(try failure(nil, environment: database, overrides: ["nonsense"]).contains("--set nonsense"))
        #expect(
            try failure(nil, environment: database, overrides: ["pacs.sources=nowhere"]).hasPrefix(
                "configuration: pacs.sources: PACS destination 'nowhere'"))
        #expect(
            try failure(nil, environment: database, overrides: ["seg.labels=/missing.yaml"])
                == "configuration: seg.labels: cannot read '/missing.yaml'")
        let labels = try file("lesion:\n  type: [SCT, \"108369006\"]\n")
        #expect(
            try failure(nil, environment: database, overrides: ["seg.labels=\(labels)"])
                == "configuration: seg.labels: 'lesion' needs category: [scheme, code, meaning]")
    }

    @Test func directoryAndDicomListenerKeysAreChecked() throws {
        #expect(
            try failure(nil, environment: database, overrides: ["ldap.url=http://dc1"])
                == "configuration: ldap.url is ldaps://host or ldap://host (with StartTLS), not 'http://dc1'")
        #expect(
            try failure(nil, environment: database, overrides: ["ldap.url=ldaps://dc1"])
                == "configuration: ldap.url needs ldap.user_base")
        #expect(
            try failure(nil, environment: database, overrides: ["ldap.url=ldaps://dc1", "ldap.user_base=ou=people"])
                .contains("needs at least one of ldap.admin_groups"))
        #expect(
            try failure(nil, environment: database, overrides: ["dicom.tls.port=2762"]).contains(
                "dicom.tls.port needs dicom.tls.certificate"))
        // The plain C-STORE port is open to named senders only, or to any when it says "*".
        let open = try SettingsLoader(environment: database).load(file: nil)
        #expect(throws: SettingsError.self) { try open.checkStorageCallers() }
        let anyCaller = try SettingsLoader(environment: database).load(
            file: nil, overrides: ["dicom.allowed_callers=*"])
        try anyCaller.checkStorageCallers()
        #expect(anyCaller.acceptedCallers.isEmpty)
        let closed = try SettingsLoader(environment: database).load(file: nil, overrides: ["dicom.port=0"])
        try closed.checkStorageCallers()

        let loader = SettingsLoader(
            environment: database.merging(["DELINEATE_LDAP_BIND_PASSWORD": "service-secret"]) { $1 })
        let settings = try loader.load(
            file: nil,
            overrides: [
                "ldap.url=ldaps://dc1.hospital.org", "ldap.user_base=ou=people,dc=hospital,dc=org",
                "ldap.reviewer_groups=cn=radiologists,ou=groups,dc=hospital,dc=org; cn=residents,dc=hospital,dc=org",
            ])
        let directory = try #require(settings.directory)
        #expect(directory.bindPassword == "service-secret" && directory.userAttribute == "uid")
        #expect(directory.groupBase == "ou=people,dc=hospital,dc=org")  // empty: the user base
        // DNs hold commas: in the environment and --set, group lists are separated by semicolons.
        #expect(
            directory.roleGroups[.reviewer] == [
                "cn=radiologists,ou=groups,dc=hospital,dc=org", "cn=residents,dc=hospital,dc=org",
            ])
        let printed = loader.describe(settings)
        #expect(printed.contains("ldap.bind_password: ***") && !printed.contains("service-secret"))
    }

    @Test func theSampleConfigurationListsEveryKeyAndLoads() throws {
        let sample = try String(contentsOfFile: Self.repository + "/Deploy/delineate.yaml", encoding: .utf8)
        let settings = try SettingsLoader(environment: [:]).load(file: Self.repository + "/Deploy/delineate.yaml")
        #expect(settings.fileStore == "/var/lib/delineate/files" && settings.pacs == ["ORTHANC@127.0.0.1:4242"])
        #expect(settings.pacsSources == ["ORTHANC@127.0.0.1:4242"])
        // The sample label catalogue codes three phantom classes.
        let codings = try LabelCoding.read(path: Self.repository + "/Deploy/labels.yaml")
        #expect(codings["large organ"]?.type == CodedConcept("10200004", "SCT", "Liver"))
        #expect(codings.count == 3 && codings["lesion"]?.colour == [200, 80, 250])
        // Each key's last part appears in the sample, so operators see every setting there.
        for key in SettingKey.all {
            let leaf = key.name.split(separator: ".").last.map(String.init) ?? key.name
            #expect(sample.contains(leaf + ":"), "Deploy/delineate.yaml lacks \(key.name)")
        }
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
}
