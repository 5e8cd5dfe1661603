import ArgumentParser
import DicomKit
import Foundation
import Logging
import Server
import Store

/// `delineate import DIR`: ingests every DICOM file below a folder and opens a case per new CT/MR series.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import DICOM files from a folder (recursive) and create cases.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var caseRules: CaseRuleOptions

    @Option(help: "Content-addressed file store (environment: DELINEATE_FILE_STORE; default data/files).")
    var fileStore: String = Environment.value("DELINEATE_FILE_STORE") ?? "data/files"

    @Argument(help: "Folder to import.") var folder: String

    func run() async throws {
        let logger = Logger(label: "delineate.import")
        let pool = try await database.migratedPool(size: 2, logger: logger)
        let files = try FileStore(root: fileStore)
        let ingest = DicomIngest(files: files, pool: pool)
        guard let walker = FileManager.default.enumerator(atPath: folder) else {
            throw ValidationError("cannot read folder \(folder)")
        }
        var stored = 0
        var duplicates = 0
        var rejected = 0
        var seriesIDs = Set<Int>()
        while let relative = walker.nextObject() as? String {
            let path = folder + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                (relative as NSString).lastPathComponent != "DICOMDIR",
                let data = FileManager.default.contents(atPath: path)
            else { continue }
            do {
                switch try await ingest.ingest([UInt8](data), callingAE: "IMPORT") {
                case .stored(let series, _):
                    stored += 1
                    seriesIDs.insert(series)
                case .duplicate(let series, _):
                    duplicates += 1
                    seriesIDs.insert(series)
                }
            } catch {
                rejected += 1
                logger.warning("rejected \(path): \(error)")
            }
        }
        let assembly = SeriesAssembly(files: files, pool: pool, caseRule: caseRules.rule)
        for series in seriesIDs.sorted() {
            switch try await assembly.assemble(seriesID: series) {
            case .assembled(let plan, let caseID):
                print(
                    "series \(series): volume \(plan.geometry.sizeDescription), case \(caseID.map(String.init) ?? "none")"
                )
            case .rejected(let reason):
                print("series \(series): rejected: \(reason)")
            case .notImages:
                print("series \(series): no images (a SEG, say), kept without a volume")
            }
        }
        print("imported \(stored) new, \(duplicates) already present, \(rejected) rejected")
    }
}
