import Foundation

/// A QIDO-RS search: the matching keys PS3.18 §8.3.4 requires for studies, series and instances.
/// Text keys may hold `*` and `?` wildcards; UID keys may list several UIDs; the date may be a
/// range (`20240101-20241231`, `-20241231`, `20240101-`).
public struct DicomWebQuery: Sendable, Equatable {
    public var studyInstanceUIDs: [String] = []
    public var seriesInstanceUIDs: [String] = []
    public var sopInstanceUIDs: [String] = []
    public var patientID: String?
    public var patientName: String?
    public var studyDate: String?
    public var accessionNumber: String?
    public var studyDescription: String?
    /// Modality of the series (series level) or one of the study's modalities (study level).
    public var modalities: [String] = []
    public var limit = 100
    public var offset = 0

    public init() {}
}

/// A study as QIDO-RS answers it.
public struct StudySummary: Sendable, Equatable {
    public var patientID: String
    public var patientName: String
    public var patientBirthDate: String
    public var patientSex: String
    public var studyInstanceUID: String
    public var studyDate: String
    public var studyTime: String
    public var accessionNumber: String
    public var studyDescription: String
    public var modalities: [String]
    public var seriesCount: Int
    public var instanceCount: Int
}

/// A series as QIDO-RS answers it.
public struct SeriesSummary: Sendable, Equatable {
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var modality: String
    public var seriesDescription: String
    public var seriesNumber: Int?
    public var bodyPart: String
    public var instanceCount: Int
}

/// An instance as QIDO-RS answers it, with where its file is.
public struct InstanceSummary: Sendable, Equatable {
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    public var sopClassUID: String
    public var instanceNumber: Int?
    public var numberOfFrames: Int
    public var fileSHA256: String
    /// The patient, for the audit trail.
    public var patientID: String
}

/// The searches behind the DICOMweb server: studies, series and instances of the index.
public struct DicomWebIndex: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Matching studies, newest first.
    public func studies(_ query: DicomWebQuery) async throws(StoreError) -> [StudySummary] {
        var filter = Filter()
        filter.uids("st.study_instance_uid", query.studyInstanceUIDs)
        filter.studyKeys(query)
        if !query.modalities.isEmpty {
            filter.add(
                "EXISTS (SELECT 1 FROM series m WHERE m.study_ref = st.id AND m.modality = ANY($?::text[]))",
                Filter.array(query.modalities))
        }
        let sql = """
            SELECT st.study_instance_uid, st.study_date, st.study_time, st.accession_number, st.description,
                p.patient_id, p.name, p.birth_date, p.sex,
                array_to_string(ARRAY(SELECT DISTINCT m.modality FROM series m WHERE m.study_ref = st.id
                    ORDER BY 1), '\\') AS modalities,
                (SELECT count(*) FROM series m WHERE m.study_ref = st.id) AS series_count,
                (SELECT count(*) FROM instances i JOIN series m ON m.id = i.series_ref WHERE m.study_ref = st.id)
                    AS instance_count
            FROM studies st JOIN patients p ON p.id = st.patient_ref
            WHERE \(filter.sql)
            ORDER BY st.study_date DESC, st.id DESC LIMIT \(max(query.limit, 0)) OFFSET \(max(query.offset, 0))
            """
        return try await select(sql, filter).map { row in
            StudySummary(
                patientID: row["patient_id"] ?? "", patientName: row["name"] ?? "",
                patientBirthDate: row["birth_date"] ?? "", patientSex: row["sex"] ?? "",
                studyInstanceUID: row["study_instance_uid"] ?? "", studyDate: row["study_date"] ?? "",
                studyTime: row["study_time"] ?? "", accessionNumber: row["accession_number"] ?? "",
                studyDescription: row["description"] ?? "",
                modalities: (row["modalities"] ?? "").split(separator: "\\").map(String.init),
                seriesCount: row.int("series_count") ?? 0, instanceCount: row.int("instance_count") ?? 0)
        }
    }

    /// Matching series, in series number order.
    public func series(_ query: DicomWebQuery) async throws(StoreError) -> [SeriesSummary] {
        var filter = Filter()
        filter.uids("st.study_instance_uid", query.studyInstanceUIDs)
        filter.uids("s.series_instance_uid", query.seriesInstanceUIDs)
        filter.studyKeys(query)
        if !query.modalities.isEmpty { filter.add("s.modality = ANY($?::text[])", Filter.array(query.modalities)) }
        let sql = """
            SELECT st.study_instance_uid, s.series_instance_uid, s.modality, s.description, s.series_number,
                s.body_part, (SELECT count(*) FROM instances i WHERE i.series_ref = s.id) AS instance_count
            FROM series s JOIN studies st ON st.id = s.study_ref JOIN patients p ON p.id = st.patient_ref
            WHERE \(filter.sql)
            ORDER BY s.series_number NULLS LAST, s.id LIMIT \(max(query.limit, 0)) OFFSET \(max(query.offset, 0))
            """
        return try await select(sql, filter).map { row in
            SeriesSummary(
                studyInstanceUID: row["study_instance_uid"] ?? "", seriesInstanceUID: row["series_instance_uid"] ?? "",
                modality: row["modality"] ?? "", seriesDescription: row["description"] ?? "",
                seriesNumber: row.int("series_number"), bodyPart: row["body_part"] ?? "",
                instanceCount: row.int("instance_count") ?? 0)
        }
    }

    /// Matching instances, in instance number order.
    public func instances(_ query: DicomWebQuery) async throws(StoreError) -> [InstanceSummary] {
        var filter = Filter()
        filter.uids("st.study_instance_uid", query.studyInstanceUIDs)
        filter.uids("s.series_instance_uid", query.seriesInstanceUIDs)
        filter.uids("i.sop_instance_uid", query.sopInstanceUIDs)
        filter.studyKeys(query)
        if !query.modalities.isEmpty { filter.add("s.modality = ANY($?::text[])", Filter.array(query.modalities)) }
        let sql = """
            SELECT st.study_instance_uid, s.series_instance_uid, i.sop_instance_uid, i.sop_class_uid,
                i.instance_number, i.number_of_frames, i.file_sha256, p.patient_id
            FROM instances i JOIN series s ON s.id = i.series_ref JOIN studies st ON st.id = s.study_ref
                JOIN patients p ON p.id = st.patient_ref
            WHERE \(filter.sql)
            ORDER BY s.id, i.instance_number NULLS LAST, i.id LIMIT \(max(query.limit, 0)) OFFSET \(max(query.offset, 0))
            """
        return try await select(sql, filter).map { row in
            InstanceSummary(
                studyInstanceUID: row["study_instance_uid"] ?? "", seriesInstanceUID: row["series_instance_uid"] ?? "",
                sopInstanceUID: row["sop_instance_uid"] ?? "", sopClassUID: row["sop_class_uid"] ?? "",
                instanceNumber: row.int("instance_number"), numberOfFrames: row.int("number_of_frames") ?? 1,
                fileSHA256: row["file_sha256"] ?? "", patientID: row["patient_id"] ?? "")
        }
    }

    private func select(_ sql: String, _ filter: Filter) async throws(StoreError) -> [Record] {
        let parameters = filter.parameters
        return try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(sql, parameters).records
        }
    }
}

/// A WHERE clause built from bound parameters ("$?" stands for the next parameter number).
private struct Filter {
    var clauses: [String] = ["true"]
    var parameters: [(any PostgresEncodable)?] = []

    var sql: String { clauses.joined(separator: " AND ") }

    mutating func add(_ clause: String, _ value: String) {
        parameters.append(value)
        clauses.append(clause.replacingOccurrences(of: "$?", with: "$\(parameters.count)"))
    }

    mutating func uids(_ column: String, _ values: [String]) {
        guard !values.isEmpty else { return }
        add("\(column) = ANY($?::text[])", Self.array(values))
    }

    /// A text key with DICOM wildcards (`*`, `?`) as a LIKE pattern; exact otherwise.
    mutating func text(_ column: String, _ value: String?, caseInsensitive: Bool = false) {
        guard let value, !value.isEmpty, value != "*" else { return }
        var pattern = ""
        for character in value {
            switch character {
            case "*": pattern += "%"
            case "?": pattern += "_"
            case "%", "_", "\\": pattern += "\\\(character)"
            default: pattern.append(character)
            }
        }
        add("\(column) \(caseInsensitive ? "ILIKE" : "LIKE") $?", pattern)
    }

    /// The study-level keys shared by every level.
    mutating func studyKeys(_ query: DicomWebQuery) {
        text("p.patient_id", query.patientID)
        text("p.name", query.patientName, caseInsensitive: true)
        text("st.accession_number", query.accessionNumber)
        text("st.description", query.studyDescription, caseInsensitive: true)
        guard let date = query.studyDate?.filter({ $0 != " " }), !date.isEmpty else { return }
        if let dash = date.firstIndex(of: "-") {
            let from = String(date[..<dash])
            let to = String(date[date.index(after: dash)...])
            if !from.isEmpty { add("st.study_date >= $?", from) }
            if !to.isEmpty { add("st.study_date <= $?", to) }
        } else {
            add("st.study_date = $?", date)
        }
    }

    /// A PostgreSQL text array literal.
    static func array(_ values: [String]) -> String {
        let quoted = values.map {
            "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return "{" + quoted.joined(separator: ",") + "}"
    }
}
