import ArgumentParser
import Evaluation
import Foundation
import Hummingbird
import Logging
import Segmentation
import Server
import Store
import Tensor

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `delineate bench api`: the click endpoint under 1, 4 and 16 concurrent annotators, each on a
/// case of their own, over HTTP on loopback against the real application and database; and the
/// memory one open case costs.
struct BenchAPI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api", abstract: "Click throughput and latency under concurrent annotators; memory per open case.")

    @Option(help: "A scratch PostgreSQL database.") var databaseURL: String
    @Option(help: "Folder with sim.safetensors and prop.safetensors.") var models: String = "Models"
    @Option(help: "Columns and rows of each slice.") var size: Int = 512
    @Option(help: "Slices in each case.") var slices: Int = 8
    @Option(help: "Concurrent annotators to measure, comma-separated.") var annotators: String = "1,4,16"
    @Option(help: "Clicks each annotator makes per level.") var clicks: Int = 20
    @Option(help: "HTTP port on loopback for the run.") var port: Int = 18_123
    @Option(help: "Engine threads (default: the machine's cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Markdown file whose api table is replaced with this run's.") var writeDocs: String?

    func run() async throws {
        let levels = annotators.split(separator: ",").compactMap { Int($0) }
        guard let most = levels.max(), most > 0 else { throw ValidationError("--annotators needs positive counts") }
        EngineThreads.configure(threads)
        let table = try await LoopbackBench.with(
            databaseURL: databaseURL, models: models, cases: most, size: size, slices: slices, port: port
        ) { bench in
            let (client, token, cases) = (bench.client, bench.token, bench.cases)

            let before = ResidentMemory.current()
            // One click per case opens its session (volume, replay, key features), outside the timings.
            for id in cases {
                _ = try await client.click(case: id, slice: slices / 2, x: size / 2, y: size / 2, token: token)
            }
            // The key features of the opened cases are computed in the background.
            try await Task.sleep(for: .seconds(2))
            let perCase = (ResidentMemory.current() - before) / Double(cases.count)

            var table = """
                Click endpoint (`POST /api/v1/cases/{id}/clicks`) over HTTP on loopback, \(size)x\(size) slices, \
                each annotator on a case of their own, \(clicks) clicks each in a row, \(threads) engine threads.

                | annotators | clicks | seconds | clicks/s | p50 ms | p95 ms | p99 ms |
                | --- | ---: | ---: | ---: | ---: | ---: | ---: |

                """
            for level in levels {
                let start = ContinuousClock.now
                let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                    for annotator in 0..<level {
                        group.addTask {
                            var times: [Double] = []
                            for index in 0..<clicks {
                                let clickStart = ContinuousClock.now
                                _ = try await client.click(
                                    case: cases[annotator], slice: slices / 2 + index % 2,
                                    x: size / 4 + (index * 37) % (size / 2),
                                    y: size / 4 + (index * 53) % (size / 2), token: token)
                                times.append((ContinuousClock.now - clickStart).milliseconds)
                            }
                            return times
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
                let seconds = (ContinuousClock.now - start).milliseconds / 1000
                table += String(
                    format: "| %d | %d | %.2f | %.1f | %.0f | %.0f | %.0f |\n", level, latencies.count, seconds,
                    Double(latencies.count) / seconds, percentile(latencies, 0.5), percentile(latencies, 0.95),
                    percentile(latencies, 0.99))
            }
            table += String(
                format:
                    "\nMemory: %.0f MB of resident memory per open case (%d cases of %dx%dx%d opened; peak RSS %.0f MB).\n",
                perCase, cases.count, size, size, slices, ResidentMemory.peak())
            return table
        }
        print(table)
        if let writeDocs { try MarkdownSection.replace(named: "api", in: writeDocs, with: table) }
    }

    /// `count` phantom CT cases of `size`² x `slices`, ingested and assembled as a modality's series would be.
    static func makeCases(_ count: Int, size: Int, slices: Int, pool: DatabasePool, files: FileStore, folder: String)
        async throws -> [Int]
    {
        let ingest = DicomIngest(files: files, pool: pool)
        var cases: [Int] = []
        for number in 1...count {
            let seed = UInt64(7000 + number)
            let phantom = PhantomGenerator(columns: size, rows: size, slices: slices, modality: .ct).generate(
                seed: seed)
            var seriesID = 0
            for path in try PhantomCommand.write(phantom, seed: seed, number: number, to: "\(folder)/case-\(number)") {
                if case .stored(let id, _) = try await ingest.ingest(
                    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
                {
                    seriesID = id
                }
            }
            guard
                case .assembled(_, let caseID?) = try await SeriesAssembly(files: files, pool: pool).assemble(
                    seriesID: seriesID)
            else { throw ValidationError("phantom case \(number) did not assemble into a case") }
            cases.append(caseID)
        }
        return cases
    }
}

/// The few API calls the benchmark makes, with URLSession.
struct BenchClient: Sendable {
    let base: String
    /// One connection per annotator, as each annotator's browser has its own.
    let session: URLSession = {
        let configuration = URLSessionConfiguration.default
        configuration.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: configuration)
    }()

    func waitUntilServing() async throws {
        for _ in 0..<300 {
            if (try? await session.data(from: URL(string: base + "/healthz")!)) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("the server did not answer on \(base)")
    }

    func login(username: String, password: String) async throws -> String {
        let answer = try await post("/api/v1/login", ["username": username, "password": password], token: nil)
        guard let token = answer["token"] as? String else { throw ValidationError("login failed: \(answer)") }
        return token
    }

    func click(case id: Int, slice: Int, x: Int, y: Int, token: String) async throws -> [String: Any] {
        try await post("/api/v1/cases/\(id)/clicks", ["slice": slice, "x": x, "y": y, "label": 1], token: token)
    }

    /// The body of a GET that must answer 200.
    func get(_ path: String, token: String) async throws -> Data {
        var request = URLRequest(url: URL(string: base + path)!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        return try await send(request, path)
    }

    private func post(_ path: String, _ body: [String: Any], token: String?) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let data = try await send(request, path)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    private func send(_ request: URLRequest, _ path: String) async throws -> Data {
        let (data, response) = try await session.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw ValidationError(
                "\(path) answered \((response as? HTTPURLResponse)?.statusCode ?? 0): \(String(decoding: data, as: UTF8.self))"
            )
        }
        return data
    }
}

/// This process's resident memory from /proc/self/status, in MB.
enum ResidentMemory {
    static func current() -> Double { value("VmRSS:") }
    static func peak() -> Double { value("VmHWM:") }

    private static func value(_ field: String) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return .nan }
        return kilobytes / 1024
    }
}
