import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A private Orthanc for one test (its own ports and storage), so a test can stop and restart
/// its PACS without disturbing the shared one.
public final class OrthancInstance: @unchecked Sendable {
    public let aeTitle: String
    public let dicomPort: Int
    public let httpPort: Int
    public let folder: String
    /// HTTP Basic credentials when the REST API requires a login.
    let login: (user: String, password: String)?
    private var process: Process?

    /// Starts Orthanc and waits until its REST API answers. With `tls`, its DICOM port speaks only
    /// TLS and requires a client certificate signed by the test authority; with `login`, its REST and
    /// DICOMweb APIs require that user. `extra` adds or replaces configuration entries (remote
    /// DICOMweb servers, DICOM modalities for C-MOVE, …).
    public init(
        aeTitle: String = "TESTPACS", tls: TestCertificates? = nil, login: (user: String, password: String)? = nil,
        extra: [String: Any] = [:]
    ) async throws {
        self.login = login
        self.aeTitle = aeTitle
        dicomPort = FreePort.next()
        httpPort = FreePort.next()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("orthanc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/storage", withIntermediateDirectories: true)
        var config: [String: Any] = [
            "Name": "test PACS", "StorageDirectory": folder + "/storage", "IndexDirectory": folder + "/storage",
            "HttpPort": httpPort, "DicomPort": dicomPort, "DicomAet": aeTitle, "RemoteAccessAllowed": false,
            "AuthenticationEnabled": login != nil, "DicomCheckCalledAet": true, "DicomAlwaysAllowStore": true,
            "Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"],
            "DicomWeb": ["Enable": true, "Root": "/dicom-web/"],
        ]
        if let login { config["RegisteredUsers"] = [login.user: login.password] }
        config.merge(extra) { _, new in new }
        if let tls {
            config["DicomTlsEnabled"] = true
            config["DicomTlsCertificate"] = tls.serverCertificate
            config["DicomTlsPrivateKey"] = tls.serverKey
            config["DicomTlsTrustedCertificates"] = tls.authority
            config["DicomTlsRemoteCertificateRequired"] = true
        }
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: folder + "/orthanc.json"))
        try await start()
    }

    /// Starts (or restarts) the server on the same ports and storage.
    public func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/Orthanc")
        process.arguments = [folder + "/orthanc.json"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        self.process = process
        // Up to a minute: with the network tests running beside it on two cores, Orthanc's first
        // start (plugins, a fresh index) can take well over ten seconds.
        for _ in 0..<600 {
            if (try? await get("/system")) != nil { return }
            guard process.isRunning else {
                throw ExternalToolError(
                    tool: "Orthanc", status: process.terminationStatus, output: "exited before answering on \(httpPort)"
                )
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ExternalToolError(tool: "Orthanc", status: -1, output: "did not answer on port \(httpPort) within 60 s")
    }

    /// Stops the server (SIGTERM, then SIGKILL after 5 s) and waits until it has exited, without
    /// blocking a cooperative thread.
    public func stop() async {
        guard let process else { return }
        self.process = nil
        await process.terminateAndWait()
    }

    /// GETs a REST or DICOMweb path and returns the body; throws unless the status is 200.
    public func get(_ path: String) async throws -> Data {
        try await send(URLRequest(url: URL(string: "http://127.0.0.1:\(httpPort)\(path)")!))
    }

    /// POSTs a JSON body to a REST path and returns the answer; throws unless the status is 200.
    public func post(_ path: String, json: Any) async throws -> Data {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(httpPort)\(path)")!, timeoutInterval: 120)
        request.httpMethod = "POST"
        request.httpBody = try JSONSerialization.data(withJSONObject: json)
        return try await send(request)
    }

    private func send(_ request: URLRequest) async throws -> Data {
        var request = request
        let path = request.url?.path ?? ""
        if let login {
            let token = Data("\(login.user):\(login.password)".utf8).base64EncodedString()
            request.setValue("Basic \(token)", forHTTPHeaderField: "Authorization")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw ExternalToolError(
                tool: "Orthanc \(request.httpMethod ?? "GET") \(path)",
                status: Int32((response as? HTTPURLResponse)?.statusCode ?? 0),
                output: String(decoding: data.prefix(500), as: UTF8.self))
        }
        return data
    }

    deinit {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: folder)
    }
}
