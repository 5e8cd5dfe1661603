import CLibPQ

/// The rows of a statement, copied out of libpq as text.
public struct QueryResult: Sendable {
    /// Column names in order.
    public let columns: [String]
    /// Row values as text; nil is SQL NULL.
    public let rows: [[String?]]
    /// Rows affected by INSERT/UPDATE/DELETE (0 for SELECT).
    public let affectedRows: Int

    init(_ result: OpaquePointer) {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        rows = (0..<rowCount).map { row in
            (0..<columnCount).map { column in
                PQgetisnull(result, Int32(row), Int32(column)) == 1
                    ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
            }
        }
        affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// The rows as dictionaries keyed by column name.
    public var records: [Record] {
        rows.map { Record(columns: columns, values: $0) }
    }
}

/// One row with typed accessors by column name.
public struct Record: Sendable {
    let columns: [String]
    let values: [String?]

    /// The text value of a column, nil for NULL or an unknown column.
    public subscript(_ column: String) -> String? {
        columns.firstIndex(of: column).flatMap { values[$0] }
    }

    public func int(_ column: String) -> Int? { self[column].flatMap { Int($0) } }
    public func double(_ column: String) -> Double? { self[column].flatMap { Double($0) } }
    public func bool(_ column: String) -> Bool? { self[column].map { $0 == "t" } }
}

/// A Swift value that can be bound as a PostgreSQL text parameter.
public protocol PostgresEncodable: Sendable {
    var postgresText: String { get }
}

extension String: PostgresEncodable { public var postgresText: String { self } }
extension Int: PostgresEncodable { public var postgresText: String { String(self) } }
extension Int64: PostgresEncodable { public var postgresText: String { String(self) } }
extension Double: PostgresEncodable { public var postgresText: String { String(self) } }
extension Bool: PostgresEncodable { public var postgresText: String { self ? "true" : "false" } }
extension Array: PostgresEncodable where Element == UInt8 {
    /// bytea in hex form.
    public var postgresText: String {
        let digits = Array<UInt8>("0123456789abcdef".utf8)
        var text = [UInt8]("\\x".utf8)
        text.reserveCapacity(2 + count * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
