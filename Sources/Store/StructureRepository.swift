/// A structure a user named in a case: its label value, name, codes (scheme, code, meaning) and
/// display colour.
public struct CaseStructure: Sendable, Equatable, Codable {
    public var value: Int
    public var name: String
    /// Segmented Property Type: scheme, code, meaning.
    public var type: [String]
    /// Segmented Property Category: scheme, code, meaning.
    public var category: [String]
    /// Segmented Property Type Modifier (laterality): scheme, code, meaning; nil for none.
    public var modifier: [String]?
    public var colour: [Int]

    public init(value: Int, name: String, type: [String], category: [String], modifier: [String]? = nil, colour: [Int])
    {
        self.value = value
        self.name = name
        self.type = type
        self.category = category
        self.modifier = modifier
        self.colour = colour
    }
}

/// The `case_structures` table.
public struct StructureRepository: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Names a structure in a case with the next free label value from `firstValue`, coloured by
    /// `palette` in naming order (value − firstValue); `conflict` when the name is taken,
    /// `invalidValue` when no value is left.
    public func create(
        caseID: Int, name: String, type: [String], category: [String], modifier: [String]? = nil, palette: [[Int]],
        firstValue: Int, userID: Int?
    ) async throws(StoreError) -> CaseStructure {
        try await pool.transaction { connection throws(StoreError) in
            // One naming at a time per case: the row lock keeps two values from colliding.
            try connection.execute("SELECT id FROM cases WHERE id = $1 FOR UPDATE", [caseID])
            let taken = try connection.execute(
                "SELECT 1 FROM case_structures WHERE case_ref = $1 AND lower(name) = lower($2)", [caseID, name])
            guard taken.rows.isEmpty else {
                throw StoreError(.conflict, "case \(caseID) already has a structure named \(name)")
            }
            let next =
                try connection.execute(
                    "SELECT greatest(coalesce(max(label_value) + 1, $2), $2) AS next FROM case_structures WHERE case_ref = $1",
                    [caseID, firstValue]
                ).records[0].int("next") ?? firstValue
            guard next <= 255 else { throw StoreError(.invalidValue, "case \(caseID) has no label value left") }
            let colour = palette[(next - firstValue) % palette.count]
            try connection.execute(
                """
                INSERT INTO case_structures (case_ref, label_value, name, type_scheme, type_code, type_meaning,
                    category_scheme, category_code, category_meaning, colour, created_by, modifier_scheme,
                    modifier_code, modifier_meaning)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::smallint[], $11, $12, $13, $14)
                """,
                [
                    caseID, next, name, type[0], type[1], type[2], category[0], category[1], category[2],
                    "{\(colour.map(String.init).joined(separator: ","))}", userID, modifier?[0], modifier?[1],
                    modifier?[2],
                ])
            return CaseStructure(
                value: next, name: name, type: type, category: category, modifier: modifier, colour: colour)
        }
    }

    /// The case's structures, in the order they were named.
    public func structures(caseID: Int) async throws(StoreError) -> [CaseStructure] {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                SELECT label_value, name, type_scheme, type_code, type_meaning, category_scheme, category_code,
                    category_meaning, modifier_scheme, modifier_code, modifier_meaning,
                    array_to_string(colour, ',') AS colour
                FROM case_structures WHERE case_ref = $1 ORDER BY label_value
                """, [caseID]
            ).records.map { row in
                CaseStructure(
                    value: row.int("label_value") ?? 0, name: row["name"] ?? "",
                    type: [row["type_scheme"] ?? "", row["type_code"] ?? "", row["type_meaning"] ?? ""],
                    category: [
                        row["category_scheme"] ?? "", row["category_code"] ?? "", row["category_meaning"] ?? "",
                    ],
                    modifier: row["modifier_code"].map {
                        [row["modifier_scheme"] ?? "", $0, row["modifier_meaning"] ?? ""]
                    },
                    colour: (row["colour"] ?? "").split(separator: ",").compactMap { Int($0) })
            }
        }
    }
}
