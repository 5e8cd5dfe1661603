import Foundation
public import Store

/// Rows the store tests need before they can test what they are about.
public enum Fixtures {
    /// Indexes one CT instance of a new series and returns the series id.
    public static func series(in pool: DatabasePool, patientID: String = "PAT-1", modality: String = "CT")
        async throws -> Int
    {
        let uid = "2.25.\(UInt64.random(in: 1...UInt64.max))"
        return try await InstanceIndex(pool: pool).record(
            IndexedInstance(
                patientID: patientID, studyInstanceUID: uid + ".1", seriesInstanceUID: uid + ".2", modality: modality,
                sopInstanceUID: uid + ".3", sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
                fileSHA256: String(repeating: "0", count: 64),
                fileSize: 1)
        ).seriesID
    }

    /// Creates a user with a placeholder hash and returns it.
    public static func user(in pool: DatabasePool, name: String, role: Role = .annotator) async throws -> User {
        try await UserRepository(pool: pool).create(username: name, displayName: name, role: role, passwordHash: "-")
    }
}
