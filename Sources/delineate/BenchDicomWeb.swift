import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Segmentation
import Server
import Store

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `delineate bench dicomweb`: what a viewer waits for when it opens a series from our DICOMweb
/// server over HTTP on loopback: the study search, the series search, the series metadata, every
/// frame one request at a time (a stack viewport's loading), and the whole series as instances.
struct BenchDicomWeb: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dicomweb", abstract: "QIDO-RS and WADO-RS response times for one series.")

    @Option(help: "A scratch PostgreSQL database.") var databaseURL: String
    @Option(help: "Columns and rows of each slice.") var size: Int = 512
    @Option(help: "Slices in the series.") var slices: Int = 300
    @Option(help: "Repetitions of the searches and the metadata.") var repeats: Int = 10
    @Option(help: "HTTP port on loopback for the run.") var port: Int = 18_124
    @Option(help: "Markdown file whose dicomweb table is replaced with this run's.") var writeDocs: String?

    func run() async throws {
        var logger = Logger(label: "delineate.bench")
        logger.logLevel = .warning
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("bench-dicomweb-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let pool = try await Delineate.migratedPool(url: databaseURL, size: 8, migrations: nil, logger: logger)
        let files = try FileStore(root: work + "/store")
        let caseID = try await BenchAPI.makeCases(1, size: size, slices: slices, pool: pool, files: files, folder: work)
        let record = try await CaseRepository(pool: pool).find(id: caseID[0])
        let (username, password) = ("bench-\(UUID().uuidString.prefix(8))", UUID().uuidString)
        _ = try await UserRepository(pool: pool).create(
            username: username, displayName: "Bench", role: .reviewer,
            passwordHash: PasswordHasher.hash(password, cost: 4))
        let app = DelineateApplication.make(
            configuration: ServerConfiguration(httpPort: port, databaseURL: databaseURL, webRoot: nil), pool: pool,
            files: files, logger: logger)
        let server = Task { try await app.runService() }
        defer { server.cancel() }
        try await BenchClient(base: "http://127.0.0.1:\(port)").waitUntilServing()
        let authorization = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        let base = "http://127.0.0.1:\(port)/dicomweb"
        let series = "\(base)/studies/\(record.studyInstanceUID)/series/\(record.seriesInstanceUID)"

        func get(_ url: String) async throws -> (Double, Int) {
            var request = URLRequest(url: URL(string: url)!, timeoutInterval: 600)
            request.setValue(authorization, forHTTPHeaderField: "Authorization")
            let start = ContinuousClock.now
            let (data, response) = try await URLSession.shared.data(for: request)
            guard (response as? HTTPURLResponse)?.statusCode == 200 else {
                throw ValidationError("\(url) answered \((response as? HTTPURLResponse)?.statusCode ?? 0)")
            }
            return ((ContinuousClock.now - start).milliseconds, data.count)
        }
        func repeated(_ url: String, _ times: Int) async throws -> (median: Double, bytes: Int) {
            var timings: [Double] = []
            var bytes = 0
            for _ in 0..<times {
                let (milliseconds, size) = try await get(url)
                timings.append(milliseconds)
                bytes = size
            }
            return (percentile(timings, 0.5), bytes)
        }
        _ = try await get("\(base)/studies?limit=1")  // signs in once (bcrypt) outside the timings
        let studies = try await repeated(
            "\(base)/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060", repeats)
        let seriesSearch = try await repeated("\(base)/studies/\(record.studyInstanceUID)/series", repeats)
        let metadata = try await repeated(series + "/metadata", repeats)
        var query = DicomWebQuery()
        query.seriesInstanceUIDs = [record.seriesInstanceUID]
        query.limit = slices
        let instances = try await DicomWebIndex(pool: pool).instances(query)
        var frameTimes: [Double] = []
        let framesStart = ContinuousClock.now
        for instance in instances {
            frameTimes.append(try await get(series + "/instances/\(instance.sopInstanceUID)/frames/1").0)
        }
        let framesSeconds = (ContinuousClock.now - framesStart).milliseconds / 1000
        let (retrieveMilliseconds, retrieveBytes) = try await get(series)

        let table = """
            One CT series of \(slices) slices of \(size)x\(size) (uncompressed, 16 bits) from `/dicomweb` over \
            HTTP on loopback, one client, Basic credentials (signed in before the timings); medians of \
            \(repeats) requests.

            | request | median ms | size |
            | --- | ---: | ---: |
            | QIDO-RS studies, OHIF's study-list query | \(String(format: "%.1f", studies.median)) | \(studies.bytes) B |
            | QIDO-RS series of the study | \(String(format: "%.1f", seriesSearch.median)) | \(seriesSearch.bytes) B |
            | WADO-RS series metadata (\(slices) instances) | \(String(format: "%.0f", metadata.median)) | \(String(format: "%.1f", Double(metadata.bytes) / 1e6)) MB |
            | WADO-RS one frame (median of the \(slices) one-by-one requests) | \(String(format: "%.1f", percentile(frameTimes, 0.5))) | \(size * size * 2) B |
            | every frame, one request each, in a row | \(String(format: "%.0f", framesSeconds * 1000)) (\(String(format: "%.0f", Double(slices) / framesSeconds)) frames/s) | |
            | WADO-RS series retrieve (all instances, once) | \(String(format: "%.0f", retrieveMilliseconds)) | \(String(format: "%.0f", Double(retrieveBytes) / 1e6)) MB |

            """
        print(table)
        if let writeDocs { try MarkdownSection.replace(named: "dicomweb", in: writeDocs, with: table) }
    }
}
