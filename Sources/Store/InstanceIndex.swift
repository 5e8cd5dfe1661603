/// The key attributes of one stored DICOM instance, as indexed in PostgreSQL.
public struct IndexedInstance: Sendable, Equatable {
    public var patientID: String
    public var patientName: String
    public var studyInstanceUID: String
    public var studyDate: String
    public var studyDescription: String
    public var seriesInstanceUID: String
    public var modality: String
    public var seriesDescription: String
    /// Body Part Examined (0018,0015), for case rules.
    public var bodyPart: String
    public var seriesNumber: Int?
    /// Manufacturer (0008,0070): "Delineate phantom" marks the phantoms the class network knows.
    public var manufacturer: String
    public var sopInstanceUID: String
    public var sopClassUID: String
    public var transferSyntaxUID: String
    public var instanceNumber: Int?
    public var fileSHA256: String
    public var fileSize: Int
    public var numberOfFrames: Int
    public var callingAE: String

    public init(
        patientID: String, patientName: String = "", studyInstanceUID: String, studyDate: String = "",
        studyDescription: String = "", seriesInstanceUID: String, modality: String, seriesDescription: String = "",
        bodyPart: String = "", seriesNumber: Int? = nil, manufacturer: String = "", sopInstanceUID: String,
        sopClassUID: String,
        transferSyntaxUID: String = "",
        instanceNumber: Int? = nil, fileSHA256: String, fileSize: Int, numberOfFrames: Int = 1, callingAE: String = ""
    ) {
        self.patientID = patientID
        self.patientName = patientName
        self.studyInstanceUID = studyInstanceUID
        self.studyDate = studyDate
        self.studyDescription = studyDescription
        self.seriesInstanceUID = seriesInstanceUID
        self.modality = modality
        self.seriesDescription = seriesDescription
        self.bodyPart = bodyPart
        self.seriesNumber = seriesNumber
        self.manufacturer = manufacturer
        self.sopInstanceUID = sopInstanceUID
        self.sopClassUID = sopClassUID
        self.transferSyntaxUID = transferSyntaxUID
        self.instanceNumber = instanceNumber
        self.fileSHA256 = fileSHA256
        self.fileSize = fileSize
        self.numberOfFrames = numberOfFrames
        self.callingAE = callingAE
    }
}

/// Indexes received instances under patient, study and series, in one transaction each.
public struct InstanceIndex: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Records the instance; re-sending the same SOP Instance UID is idempotent.
    /// Returns the series row id and whether the instance was new.
    @discardableResult
    public func record(_ instance: IndexedInstance) async throws(StoreError) -> (seriesID: Int, isNew: Bool) {
        try await pool.transaction { connection throws(StoreError) in
            let patient = try connection.execute(
                """
                INSERT INTO patients (patient_id, name) VALUES ($1, $2)
                ON CONFLICT (patient_id, issuer) DO UPDATE SET name = EXCLUDED.name RETURNING id
                """, [instance.patientID, instance.patientName]
            ).records[0].int("id")
            let study = try connection.execute(
                """
                INSERT INTO studies (patient_ref, study_instance_uid, study_date, description) VALUES ($1, $2, $3, $4)
                ON CONFLICT (study_instance_uid) DO UPDATE SET study_date = EXCLUDED.study_date RETURNING id
                """, [patient, instance.studyInstanceUID, instance.studyDate, instance.studyDescription]
            ).records[0].int("id")
            let series = try connection.execute(
                """
                INSERT INTO series (study_ref, series_instance_uid, modality, description, body_part, series_number,
                    manufacturer)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (series_instance_uid) DO UPDATE SET last_received_at = now() RETURNING id
                """,
                [
                    study, instance.seriesInstanceUID, instance.modality, instance.seriesDescription,
                    instance.bodyPart, instance.seriesNumber, instance.manufacturer,
                ]
            ).records[0].int("id")
            let inserted = try connection.execute(
                """
                INSERT INTO instances (series_ref, sop_instance_uid, sop_class_uid, transfer_syntax_uid,
                    instance_number, file_sha256, file_size, number_of_frames, calling_ae)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (sop_instance_uid) DO NOTHING
                """,
                [
                    series, instance.sopInstanceUID, instance.sopClassUID, instance.transferSyntaxUID,
                    instance.instanceNumber, instance.fileSHA256, instance.fileSize, instance.numberOfFrames,
                    instance.callingAE,
                ]
            ).affectedRows
            guard let series else { throw StoreError(.query, "series row was not returned") }
            if inserted == 1 {
                // A series assembled too early (a pause, a crash mid-send) is assembled again with the
                // new instance, unless its case already holds annotation rounds tied to the old slices.
                try connection.execute(
                    """
                    UPDATE series SET status = 'receiving', status_reason = 'more instances arrived after assembly'
                    WHERE id = $1 AND status <> 'receiving'
                      AND NOT EXISTS (SELECT 1 FROM cases c JOIN rounds r ON r.case_ref = c.id WHERE c.series_ref = $1)
                    """, [series])
            }
            return (series, inserted == 1)
        }
    }

    /// How many instances of a series are indexed.
    public func instanceCount(seriesInstanceUID: String) async throws(StoreError) -> Int {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                SELECT count(*) AS n FROM instances i JOIN series s ON s.id = i.series_ref
                WHERE s.series_instance_uid = $1
                """, [seriesInstanceUID]
            ).records[0].int("n") ?? 0
        }
    }
}
