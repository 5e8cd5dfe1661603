import Foundation

/// What a round did: a batch of clicks on one slice, a propagation, or a fusion.
public enum RoundKind: String, Sendable, Codable {
    case click
    case propagate
    case fusion
}

/// One user interaction inside a round.
public struct InteractionRecord: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case click
        case erase
        case scribble
        /// A brush stroke: its pixels take `classIndex`.
        case brush
        /// An eraser stroke: its pixels lose every label.
        case eraser

        /// A brush or eraser stroke (its pixels in `painted`).
        public var isStroke: Bool { self == .brush || self == .eraser }
    }

    /// The plane a stroke was drawn on: a slice, or in a side view a row or a column through every
    /// slice (`sliceIndex` then numbers the row or column).
    public enum Plane: String, Sendable, Codable {
        case slice, row, column
    }

    /// The interaction's row id (0 before it is stored): the order interactions happened in.
    public var id: Int

    public var sequence: Int
    public var classIndex: Int
    public var sliceIndex: Int
    public var x: Double
    public var y: Double
    public var kind: Kind
    public var clientTimestamp: Date?
    public var latencyMilliseconds: Double
    /// A stroke's covered pixels: the plane's mask (1 = covered) run-length encoded as `rle-u8`.
    public var painted: [UInt8]?
    public var plane: Plane

    public init(
        sequence: Int, classIndex: Int, sliceIndex: Int, x: Double, y: Double, kind: Kind, clientTimestamp: Date? = nil,
        latencyMilliseconds: Double = 0, painted: [UInt8]? = nil, plane: Plane = .slice, id: Int = 0
    ) {
        self.id = id
        self.plane = plane
        self.painted = painted
        self.sequence = sequence
        self.classIndex = classIndex
        self.sliceIndex = sliceIndex
        self.x = x
        self.y = y
        self.kind = kind
        self.clientTimestamp = clientTimestamp
        self.latencyMilliseconds = latencyMilliseconds
    }
}

/// A label volume to store with a round (columns x rows x slices, class index per voxel).
public struct LabelVolumeData: Sendable, Equatable {
    public var columns: Int
    public var rows: Int
    public var slices: Int
    public var labels: [UInt8]

    public init(columns: Int, rows: Int, slices: Int, labels: [UInt8]) {
        self.columns = columns
        self.rows = rows
        self.slices = slices
        self.labels = labels
    }
}

/// A round to commit: its interactions, timings and the resulting mask.
public struct NewRound: Sendable {
    public var caseID: Int
    public var userID: Int?
    public var number: Int
    public var kind: RoundKind
    public var sliceIndex: Int?
    public var durationMilliseconds: Double
    public var inferenceMilliseconds: Double
    public var qualityScores: [Float]?
    public var interactions: [InteractionRecord]
    public var mask: LabelVolumeData?
    /// The model that answered the round ("name version"; empty when none did).
    public var model: String

    public init(
        caseID: Int, userID: Int?, number: Int, kind: RoundKind, sliceIndex: Int? = nil,
        durationMilliseconds: Double = 0, inferenceMilliseconds: Double = 0, qualityScores: [Float]? = nil,
        interactions: [InteractionRecord] = [], mask: LabelVolumeData? = nil, model: String = ""
    ) {
        self.caseID = caseID
        self.userID = userID
        self.number = number
        self.kind = kind
        self.sliceIndex = sliceIndex
        self.durationMilliseconds = durationMilliseconds
        self.inferenceMilliseconds = inferenceMilliseconds
        self.qualityScores = qualityScores
        self.interactions = interactions
        self.mask = mask
        self.model = model
    }
}

/// Commits rounds atomically and reads them back in order.
public struct RoundRepository: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Writes the round, its interactions and its mask in one transaction: all or nothing.
    /// Returns the round's id.
    public func commit(_ round: NewRound) async throws(StoreError) -> Int {
        try await pool.transaction { connection throws(StoreError) in
            // Serialise writers of one case so round numbers and masks stay consistent.
            try connection.execute("SELECT id FROM cases WHERE id = $1 FOR UPDATE", [round.caseID])
            let scores = round.qualityScores.map { "{" + $0.map { String($0) }.joined(separator: ",") + "}" }
            let roundID = try connection.execute(
                """
                INSERT INTO rounds (case_ref, user_ref, number, kind, slice_index, duration_ms, inference_ms,
                    quality_scores, model)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8::real[], $9) RETURNING id
                """,
                [
                    round.caseID, round.userID, round.number, round.kind.rawValue, round.sliceIndex,
                    round.durationMilliseconds, round.inferenceMilliseconds, scores, round.model,
                ]
            ).records[0].int("id")
            guard let roundID else { throw StoreError(.query, "round id was not returned") }
            for interaction in round.interactions {
                try connection.execute(
                    """
                    INSERT INTO interactions (round_ref, sequence, class_index, slice_index, x, y, kind,
                        client_timestamp, latency_ms)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8::float8), $9)
                    """,
                    [
                        roundID, interaction.sequence, interaction.classIndex, interaction.sliceIndex, interaction.x,
                        interaction.y, interaction.kind.rawValue, interaction.clientTimestamp?.timeIntervalSince1970,
                        interaction.latencyMilliseconds,
                    ])
            }
            if let mask = round.mask {
                guard mask.labels.count == mask.columns * mask.rows * mask.slices else {
                    throw StoreError(.query, "mask holds \(mask.labels.count) labels, not columns x rows x slices")
                }
                try connection.execute(
                    """
                    INSERT INTO masks (case_ref, round_ref, encoding, columns, rows, slices, data, sha256)
                    VALUES ($1, $2, 'rle-u8', $3, $4, $5, $6::bytea, $7)
                    """,
                    [
                        round.caseID, roundID, mask.columns, mask.rows, mask.slices, RunLengthCodec.encode(mask.labels),
                        SHA256.hex(mask.labels),
                    ])
            }
            try connection.execute(
                "UPDATE cases SET status = 'in_progress', version = version + 1, updated_at = now() "
                    + "WHERE id = $1 AND status = 'new'", [round.caseID])
            return roundID
        }
    }

    /// The interactions of a case in the order they happened (the source of truth for rebuilding a session).
    public func interactions(caseID: Int) async throws(StoreError) -> [(
        round: Int, roundID: Int, interaction: InteractionRecord
    )] {
        let rows = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                SELECT r.number, r.id AS round_id, i.id, i.sequence, i.class_index, i.slice_index, i.x, i.y, i.kind,
                       i.latency_ms, i.plane, EXTRACT(EPOCH FROM i.client_timestamp)::float8 AS client_ts,
                       encode(i.painted, 'hex') AS painted
                FROM interactions i JOIN rounds r ON r.id = i.round_ref
                WHERE r.case_ref = $1 AND NOT i.undone ORDER BY r.number, r.id, i.sequence
                """, [caseID]
            ).records
        }
        return rows.compactMap { row in
            guard let round = row.int("number"), let roundID = row.int("round_id"), let sequence = row.int("sequence"),
                let classIndex = row.int("class_index"), let slice = row.int("slice_index"),
                let x = row.double("x"), let y = row.double("y"),
                let kind = row["kind"].flatMap(InteractionRecord.Kind.init), let id = row.int("id"),
                let plane = row["plane"].flatMap(InteractionRecord.Plane.init)
            else { return nil }
            return (
                round, roundID,
                InteractionRecord(
                    sequence: sequence, classIndex: classIndex, sliceIndex: slice, x: x, y: y, kind: kind,
                    clientTimestamp: row.double("client_ts").map { Date(timeIntervalSince1970: $0) },
                    latencyMilliseconds: row.double("latency_ms") ?? 0,
                    painted: row["painted"].map(Self.bytes(fromHex:)), plane: plane, id: id)
            )
        }
    }

    /// The newest stored mask of a case, decoded and checked against its checksum.
    public func latestMask(caseID: Int) async throws(StoreError) -> LabelVolumeData? {
        let row = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                SELECT columns, rows, slices, encode(data, 'hex') AS data, sha256 FROM masks
                WHERE case_ref = $1 ORDER BY id DESC LIMIT 1
                """, [caseID]
            ).records.first
        }
        guard let row, let columns = row.int("columns"), let rows = row.int("rows"), let slices = row.int("slices"),
            let hex = row["data"]
        else { return nil }
        let labels = try RunLengthCodec.decode(Self.bytes(fromHex: hex), count: columns * rows * slices)
        guard SHA256.hex(labels) == row["sha256"] else {
            throw StoreError(.query, "mask of case \(caseID) does not match its checksum")
        }
        return LabelVolumeData(columns: columns, rows: rows, slices: slices, labels: labels)
    }

    static func bytes(fromHex hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        func value(_ digit: UInt8) -> UInt8 { digit <= 57 ? digit - 48 : (digit | 0x20) - 87 }
        return stride(from: 0, to: digits.count - 1, by: 2).map { value(digits[$0]) << 4 | value(digits[$0 + 1]) }
    }
}
