import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Segmentation
import Server
import Store

/// `delineate bench viewer`: what the web client waits for when the user moves through a case,
/// over HTTP on loopback against the real application and database: a slice change (the slice's
/// stored values and its labels, fetched together as the client does) and a crosshair move (the
/// coronal and sagittal planes through it, values and labels), and the 3D check's projections.
struct BenchViewer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "viewer", abstract: "Slice-change and crosshair-move times as the web client sees them.")

    @Option(help: "A scratch PostgreSQL database.") var databaseURL: String
    @Option(help: "Folder with sim.safetensors and prop.safetensors.") var models: String = "Models"
    @Option(help: "Columns and rows of each slice.") var size: Int = 512
    @Option(help: "Slices in the case.") var slices: Int = 100
    @Option(help: "HTTP port on loopback for the run.") var port: Int = 18_125
    @Option(help: "Markdown file whose viewer table is replaced with this run's.") var writeDocs: String?

    func run() async throws {
        guard size >= 16, slices >= 2 else { throw ValidationError("--size needs 16 or more, --slices 2 or more") }
        let table = try await LoopbackBench.with(
            databaseURL: databaseURL, models: models, cases: 1, size: size, slices: slices, port: port
        ) { bench in
            let (client, token, caseID) = (bench.client, bench.token, bench.cases[0])
            // A click opens the case's session (volume, replay) outside the timings and gives the
            // labels something to carry.
            _ = try await client.click(case: caseID, slice: slices / 2, x: size / 2, y: size / 2, token: token)
            let base = "/api/v1/cases/\(caseID)"

            /// The requests fetched together, as the client's Promise.all does; milliseconds and bytes.
            func together(_ paths: [String]) async throws -> (Double, Int) {
                let start = ContinuousClock.now
                let bytes = try await withThrowingTaskGroup(of: Int.self) { group in
                    for path in paths { group.addTask { try await client.get(base + path, token: token).count } }
                    return try await group.reduce(0, +)
                }
                return ((ContinuousClock.now - start).milliseconds, bytes)
            }
            var rows: [(String, [Double], Int)] = []
            var sliceChanges: [Double] = []
            var sliceBytes = 0
            for slice in 0..<slices {
                let (milliseconds, bytes) = try await together(["/slices/\(slice)/raw", "/slices/\(slice)/labels"])
                sliceChanges.append(milliseconds)
                sliceBytes = bytes
            }
            rows.append(("slice change: the slice's values and labels", sliceChanges, sliceBytes))
            var crosshairMoves: [Double] = []
            var planeBytes = 0
            for step in 0..<min(size, 100) {
                let index = step * size / min(size, 100)
                let (milliseconds, bytes) = try await together([
                    "/planes/row/\(index)/raw", "/planes/row/\(index)/labels", "/planes/column/\(index)/raw",
                    "/planes/column/\(index)/labels",
                ])
                crosshairMoves.append(milliseconds)
                planeBytes = bytes
            }
            rows.append(("crosshair move: coronal and sagittal planes, values and labels", crosshairMoves, planeBytes))
            var projections: [Double] = []
            var projectionBytes = 0
            for _ in 0..<20 {
                let (milliseconds, bytes) = try await together(["/projections"])
                projections.append(milliseconds)
                projectionBytes = bytes
            }
            rows.append(
                ("3D check: the three label projections (after every label change)", projections, projectionBytes))

            var table = """
                What the web client waits for over HTTP on loopback, one \(size)x\(size)x\(slices) CT case \
                (opened by one click before the timings), one client: every slice in turn, and the crosshair \
                moved \(crosshairMoves.count) times (each step fetches both side planes through it), and the 3D \
                check's projections fetched \(projections.count) times.

                | request | count | p50 ms | p95 ms | max ms | bytes |
                | --- | ---: | ---: | ---: | ---: | ---: |

                """
            for (name, times, bytes) in rows {
                table +=
                    "| \(name) | \(times.count) | "
                    + String(
                        format: "%.1f | %.1f | %.1f | %d |\n", percentile(times, 0.5), percentile(times, 0.95),
                        times.max() ?? 0, bytes)
            }
            return table
        }
        print(table)
        if let writeDocs { try MarkdownSection.replace(named: "viewer", in: writeDocs, with: table) }
    }
}
