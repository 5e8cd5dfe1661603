import DelineateTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Store

@testable import Server

/// Ingests every slice of a written phantom series as a modality would send it and assembles it;
/// returns the case the assembly opened.
func ingestedCase(_ series: PhantomSeries, database: TestDatabase, files: FileStore) async throws -> Int {
    try await ingestedCase(files: series.paths, database: database, files: files)
}

/// Ingests the DICOM files of one series in order and assembles it; returns the case it opened.
func ingestedCase(files paths: [String], database: TestDatabase, files: FileStore) async throws -> Int {
    let ingest = DicomIngest(files: files, pool: database.pool)
    var seriesID = 0
    for path in paths {
        if case .stored(let id, _) = try await ingest.ingest([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        {
            seriesID = id
        }
    }
    guard
        case .assembled(_, let caseID?) = try await SeriesAssembly(files: files, pool: database.pool).assemble(
            seriesID: seriesID)
    else { throw StoreError(.notFound, "the series opened no case") }
    return caseID
}

/// Signs in over the API and returns the bearer token.
func bearerToken(_ client: any TestClientProtocol, username: String, password: String) async throws -> String {
    let body = try JSONSerialization.data(withJSONObject: ["username": username, "password": password])
    let login = try await client.execute(
        uri: "/api/v1/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
    let json = try JSONSerialization.jsonObject(with: Data(login.body.readableBytesView)) as? [String: Any]
    guard let token = json?["token"] as? String else {
        throw StoreError(.notFound, "sign-in as \(username) failed: \(String(buffer: login.body))")
    }
    return token
}

/// The stored file of the instance with this SOP Instance UID (a SEG the daemon wrote, ...).
func storedInstancePath(uid: String, database: TestDatabase, files: FileStore) async throws -> String {
    var query = DicomWebQuery()
    query.sopInstanceUIDs = [uid]
    guard let stored = try await DicomWebIndex(pool: database.pool).instances(query).first else {
        throw StoreError(.notFound, "no stored instance \(uid)")
    }
    return files.path(sha256: stored.fileSHA256)
}
