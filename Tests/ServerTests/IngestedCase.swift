import DelineateTesting
import Store

@testable import Server

/// Ingests every slice of a written phantom series as a modality would send it and assembles it;
/// returns the case the assembly opened.
func ingestedCase(_ series: PhantomSeries, database: TestDatabase, files: FileStore) async throws -> Int {
    let ingest = DicomIngest(files: files, pool: database.pool)
    var seriesID = 0
    for index in series.paths.indices {
        if case .stored(let id, _) = try await ingest.ingest(try series.bytes(index)) { seriesID = id }
    }
    guard
        case .assembled(_, let caseID?) = try await SeriesAssembly(files: files, pool: database.pool).assemble(
            seriesID: seriesID)
    else { throw StoreError(.notFound, "the series opened no case") }
    return caseID
}
