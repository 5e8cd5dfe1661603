import Foundation
import Server
import Testing
import Yams

/// Deploy/kubernetes parsed and cross-checked: every document is well-formed YAML of a known kind,
/// every name one object refers to exists, and the embedded configuration loads.
@Suite struct KubernetesManifestTests {
    static let folder =
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/Deploy/kubernetes"

    /// Every document of every manifest, as plain dictionaries.
    static func documents() throws -> [[String: Any]] {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }
            .sorted()
        var documents: [[String: Any]] = []
        for file in files {
            let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
            for document in try Yams.load_all(yaml: text) {
                guard let object = document as? [String: Any] else {
                    Issue.record("\(file): a document that is not a mapping")
                    continue
                }
                documents.append(object)
            }
        }
        return documents
    }

    static let knownKinds: Set<String> = [
        "v1/ConfigMap", "v1/Secret", "v1/Service", "v1/PersistentVolumeClaim", "apps/v1/Deployment", "batch/v1/Job",
        "networking.k8s.io/v1/Ingress",
    ]

    func names(_ documents: [[String: Any]], kind: String) -> Set<String> {
        Set(
            documents.filter { $0["kind"] as? String == kind }.compactMap {
                ($0["metadata"] as? [String: Any])?["name"] as? String
            })
    }

    @Test func everyDocumentIsAKnownKindAndEveryReferenceResolves() throws {
        let documents = try Self.documents()
        #expect(documents.count == 11)
        for document in documents {
            let kind = "\(document["apiVersion"] as? String ?? "?")/\(document["kind"] as? String ?? "?")"
            #expect(Self.knownKinds.contains(kind), "unknown kind \(kind)")
            #expect((document["metadata"] as? [String: Any])?["name"] is String, "\(kind) without a name")
        }
        let configMaps = names(documents, kind: "ConfigMap")
        let secrets = names(documents, kind: "Secret")
        let claims = names(documents, kind: "PersistentVolumeClaim")
        var podLabels: [[String: String]] = []
        var podPorts: Set<String> = []

        for workload in documents where ["Deployment", "Job"].contains(workload["kind"] as? String) {
            let spec = try #require(workload["spec"] as? [String: Any])
            let template = try #require(spec["template"] as? [String: Any])
            let labels = try #require((template["metadata"] as? [String: Any])?["labels"] as? [String: String])
            if workload["kind"] as? String == "Deployment" {
                let selector = try #require((spec["selector"] as? [String: Any])?["matchLabels"] as? [String: String])
                #expect(selector.allSatisfy { labels[$0.key] == $0.value }, "selector does not match the pod labels")
                podLabels.append(labels)
            }
            let podSpec = try #require(template["spec"] as? [String: Any])
            let volumes = (podSpec["volumes"] as? [[String: Any]]) ?? []
            let volumeNames = Set(volumes.compactMap { $0["name"] as? String })
            for volume in volumes {
                if let name = (volume["configMap"] as? [String: Any])?["name"] as? String {
                    #expect(configMaps.contains(name), "no ConfigMap \(name)")
                }
                if let name = (volume["persistentVolumeClaim"] as? [String: Any])?["claimName"] as? String {
                    #expect(claims.contains(name), "no PersistentVolumeClaim \(name)")
                }
            }
            for container in try #require(podSpec["containers"] as? [[String: Any]]) {
                #expect((container["image"] as? String)?.contains("delineate:") == true)
                let command = (container["args"] as? [String])?.first ?? ""
                #expect(["serve", "worker", "migrate"].contains(command), "unknown subcommand \(command)")
                for source in (container["envFrom"] as? [[String: Any]]) ?? [] {
                    if let name = (source["secretRef"] as? [String: Any])?["name"] as? String {
                        #expect(secrets.contains(name), "no Secret \(name)")
                    }
                }
                for mount in (container["volumeMounts"] as? [[String: Any]]) ?? [] {
                    #expect(volumeNames.contains(mount["name"] as? String ?? ""), "mount of an undeclared volume")
                }
                for port in (container["ports"] as? [[String: Any]]) ?? [] {
                    podPorts.insert(port["name"] as? String ?? "")
                }
            }
        }
        #expect(podLabels.count == 2)  // the API and the workers

        var servicePorts: [String: Set<String>] = [:]
        for service in documents where service["kind"] as? String == "Service" {
            let spec = try #require(service["spec"] as? [String: Any])
            let name = (service["metadata"] as? [String: Any])?["name"] as? String ?? ""
            servicePorts[name] = Set(((spec["ports"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String })
            guard let selector = spec["selector"] as? [String: String] else {
                #expect(spec["type"] as? String == "ExternalName", "\(name): no selector and not external")
                continue
            }
            #expect(
                podLabels.contains { labels in selector.allSatisfy { labels[$0.key] == $0.value } },
                "\(name) selects no pod")
            for port in (spec["ports"] as? [[String: Any]]) ?? [] {
                if let target = port["targetPort"] as? String {
                    #expect(podPorts.contains(target), "\(name): no port \(target)")
                }
            }
        }
        let ingress = try #require(documents.first { $0["kind"] as? String == "Ingress" })
        let rules = try #require((ingress["spec"] as? [String: Any])?["rules"] as? [[String: Any]])
        for rule in rules {
            for path in try #require((rule["http"] as? [String: Any])?["paths"] as? [[String: Any]]) {
                let service = try #require((path["backend"] as? [String: Any])?["service"] as? [String: Any])
                let port = (service["port"] as? [String: Any])?["name"] as? String ?? ""
                #expect(
                    servicePorts[service["name"] as? String ?? ""]?.contains(port) == true, "ingress to a missing port")
            }
        }
    }

    @Test func affinityHashesOnTheCaseIdTheControllerSnippetExtracts() throws {
        let documents = try Self.documents()
        let ingress = try #require(documents.first { $0["kind"] as? String == "Ingress" })
        let annotations = try #require((ingress["metadata"] as? [String: Any])?["annotations"] as? [String: String])
        let variable = try #require(annotations["nginx.ingress.kubernetes.io/upstream-hash-by"])
        let snippets = documents.compactMap { ($0["data"] as? [String: String])?["http-snippet"] }
        let snippet = try #require(snippets.first)
        #expect(snippet.contains("map $uri \(variable) {"))
        // The snippet's pattern takes the id from exactly the case routes.
        let words = snippet.split(whereSeparator: \.isWhitespace)
        let pattern = try #require(words.first { $0.hasPrefix("~^") })
        let regex = try Regex(String(pattern.dropFirst()))
        #expect("/api/v1/cases/42/clicks".firstMatch(of: regex) != nil)
        #expect("/api/v1/worklist".firstMatch(of: regex) == nil)
    }

    @Test func theEmbeddedConfigurationLoadsWithTheSecretsEnvironment() throws {
        let documents = try Self.documents()
        let configurations = documents.compactMap { ($0["data"] as? [String: String])?["delineate.yaml"] }
        let config = try #require(configurations.first)
        let secret = try #require(
            documents.first { $0["kind"] as? String == "Secret" }?["stringData"] as? [String: String])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString).yaml").path
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let settings = try SettingsLoader(environment: secret).load(file: path)
        #expect(settings.inlineWorker == false && settings.httpHost == "0.0.0.0")
        #expect(settings.databaseURL.hasPrefix("postgresql://delineate:"))
    }
}
