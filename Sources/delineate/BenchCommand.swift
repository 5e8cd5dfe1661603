import ArgumentParser
import DicomKit
import Evaluation
import Foundation
import Logging
import Segmentation
import Server
import Store

/// `delineate bench`: measured benchmarks, each printing one table (and optionally updating Docs/performance.md).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Run a benchmark and print its table.",
        subcommands: [
            Ingest.self, BenchEngine.self, BenchInteractive.self, BenchAPI.self, BenchDicomWeb.self, BenchViewer.self,
        ])

    /// `delineate bench ingest`: C-STORE throughput of our SCP against Orthanc on the same files.
    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send one phantom CT series with storescu to our SCP and to Orthanc; compare instances/s.")

        @Option(help: "A scratch PostgreSQL database (its worklist gets the benchmark series).")
        var databaseURL: String

        @Option(help: "Columns and rows of each slice.") var size: Int = 512
        @Option(help: "Slices in the series.") var slices: Int = 300
        @Option(help: "Our SCP port for the run.") var port: Int = 11_199
        @Option(help: "Orthanc as AE@host:port (environment: DELINEATE_ORTHANC_AE/HOST/DICOM_PORT).")
        var orthanc: String?
        @Option(help: "Markdown file whose ingest table is replaced with this run's.") var writeDocs: String?
        @Flag(help: "Compress every file to JPEG-LS lossless (DCMTK dcmcjpls) before sending.") var jpegLS = false

        /// The dev services' Orthanc as AE@host:port, when data/dev/env.sh is sourced.
        static func orthancFromEnvironment() -> String? {
            Environment.value("DELINEATE_ORTHANC_DICOM_PORT").map {
                "\(Environment.value("DELINEATE_ORTHANC_AE") ?? "ORTHANC")@\(Environment.value("DELINEATE_ORTHANC_HOST") ?? "127.0.0.1"):\($0)"
            }
        }

        func run() async throws {
            var logger = Logger(label: "delineate.bench")
            logger.logLevel = .warning
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: work) }
            let seed = UInt64.random(in: 1...UInt64(UInt32.max))
            let phantom = PhantomGenerator(columns: size, rows: size, slices: slices, modality: .ct).generate(
                seed: seed)
            let files = try PhantomCommand.write(phantom, seed: seed, number: 1, to: work + "/series")
            let storescuOptions = jpegLS ? ["--propose-jls-lossless"] : []
            if jpegLS {
                for file in files {
                    let compressor = try Process.run(
                        URL(fileURLWithPath: "/usr/bin/dcmcjpls"), arguments: [file, file])
                    compressor.waitUntilExit()
                    guard compressor.terminationStatus == 0 else { throw ValidationError("dcmcjpls failed on \(file)") }
                }
            }
            let megabytes =
                Double(
                    files.reduce(0) {
                        $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0)
                    }) / 1e6

            let pool = try await Delineate.migratedPool(url: databaseURL, size: 8, migrations: nil, logger: logger)
            let receiver = try DicomReceiver(
                configuration: .init(aeTitle: "DELINEATE", ports: [.init(port)], quietSeconds: 0),
                files: try FileStore(root: work + "/store"), pool: pool, logger: logger)
            let ours = try await StoreSCUTool.send(
                files, to: "127.0.0.1", port: port, calledAE: "DELINEATE", callingAE: "BENCH", options: storescuOptions)
            receiver.stop()
            guard ours.exitStatus == 0 else { throw ValidationError("storescu to Delineate failed:\n\(ours.output)") }
            let assembled = try await receiver.assembleQuietSeries()
            guard case .assembled(let plan, _)? = assembled.first?.outcome, plan.geometry.slices == slices else {
                throw ValidationError("the series did not assemble into \(slices) slices: \(assembled)")
            }
            // Every slice of the volume sits where its source file says it does.
            let written = Dictionary(
                uniqueKeysWithValues: try files.map { path in
                    let header = try DicomFile(path: path).frameHeaders()[0]
                    return (header.sopInstanceUID, header.position)
                })
            for (index, frame) in plan.frames.enumerated()
            where written[frame.sopInstanceUID] != frame.position
                || plan.geometry.slicePositions[index] != frame.position
            {
                throw ValidationError("slice \(index) (\(frame.sopInstanceUID)) is not at its source position")
            }
            var rows = [("Delineate C-STORE SCP (store + index + fsync)", ours.seconds)]
            if let orthanc = orthanc ?? Self.orthancFromEnvironment() {
                guard case .cStore(let node) = try pacsDestination(orthanc).transport else {
                    throw ValidationError("--orthanc takes AE@host:port")
                }
                let theirs = try await StoreSCUTool.send(
                    files, to: node.host, port: node.port, calledAE: node.aeTitle, callingAE: "BENCH",
                    options: storescuOptions)
                guard theirs.exitStatus == 0 else {
                    throw ValidationError("storescu to Orthanc failed:\n\(theirs.output)")
                }
                rows.append(("Orthanc \(node.aeTitle) (same files, same machine)", theirs.seconds))
            }
            var table = """
                Ingest: one CT series of \(slices) slices \(size)x\(size) (\(String(format: "%.1f", megabytes)) MB\
                \(jpegLS ? ", JPEG-LS lossless" : "")), \
                sent by DCMTK storescu in one association; volume assembled and checked (\(plan.geometry.sizeDescription)).

                | receiver | instances | seconds | instances/s | MB/s |
                | --- | ---: | ---: | ---: | ---: |

                """
            for (name, seconds) in rows {
                table += String(
                    format: "| %@ | %d | %.2f | %.1f | %.1f |\n", name, slices, seconds, Double(slices) / seconds,
                    megabytes / seconds)
            }
            print(table)
            let section = jpegLS ? "-jpeg-ls" : ""
            if let writeDocs { try MarkdownSection.replace(named: "ingest" + section, in: writeDocs, with: table) }
            let opening = try await volumeOpening(
                seriesID: assembled[0].seriesID, pool: pool, files: try FileStore(root: work + "/store"),
                logger: logger)
            print(opening)
            if let writeDocs {
                try MarkdownSection.replace(named: "volume-open" + section, in: writeDocs, with: opening)
            }
        }

        /// How long opening the case takes to read its voxels: decoded from the instances, or from
        /// the cache a worker's `volume.cache` job writes (median of 5 each).
        func volumeOpening(seriesID: Int, pool: DatabasePool, files: FileStore, logger: Logger) async throws -> String {
            let volumes = SeriesVolumes(pool: pool, files: files)
            func median(_ body: () async throws -> Void) async throws -> Double {
                var times: [Double] = []
                for _ in 0..<5 {
                    let start = ContinuousClock.now
                    try await body()
                    times.append((ContinuousClock.now - start).milliseconds / 1000)
                }
                return percentile(times, 0.5)
            }
            let decoded = try await median { _ = try await volumes.decodedVolume(seriesID: seriesID, modality: "CT") }
            let runner = JobRunner(
                pool: pool, worker: "bench", handlers: [VolumeCacheJob(volumes: volumes)], leaseSeconds: 300,
                logger: logger)
            let header = """
                Opening a case: reading the voxels of the same \(size)x\(size)x\(slices) CT series\
                \(jpegLS ? " (JPEG-LS lossless)" : "") (median of 5).

                | path | seconds |
                | --- | ---: |
                | decode every stored instance (no worker yet) | \(String(format: "%.3f", decoded)) |
                """
            let start = ContinuousClock.now
            guard try await runner.runNext() else {
                return header
                    + "\n\nNo `volume.cache` job was queued: the instances are uncompressed, so a cache would save nothing.\n"
            }
            let job = (ContinuousClock.now - start).milliseconds / 1000
            let cached = try await median {
                guard try await volumes.cachedVolume(seriesID: seriesID, modality: "CT") != nil else {
                    throw ValidationError("the worker wrote no usable cache")
                }
            }
            return header + "\n" + """
                | worker job `volume.cache` (decode, encode, write, fsync), once | \(String(format: "%.3f", job)) |
                | read the cache the worker wrote | \(String(format: "%.3f", cached)) |

                """
        }
    }
}

/// Replaces the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` in a Markdown file.
enum MarkdownSection {
    static func replace(named name: String, in path: String, with body: String) throws {
        let open = "<!-- bench:\(name) -->"
        let close = "<!-- /bench:\(name) -->"
        var text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "# Performance\n"
        let block = "\(open)\n\(body)\n\(close)"
        if let start = text.range(of: open), let end = text.range(of: close, range: start.upperBound..<text.endIndex) {
            text.replaceSubrange(start.lowerBound..<end.upperBound, with: block)
        } else {
            text += "\n\(block)\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
