import Foundation
import Store

/// RFC 4180 text for the admin exports.
enum CSV {
    /// Quotes a field that holds a comma, quote or line break.
    static func field(_ text: String) -> String {
        guard text.contains(where: { ",\"\n\r".contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A header line and one line per row, fields quoted where needed, each line ending in a newline.
    static func table(header: [String], rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(field).joined(separator: ",") + "\n" }.joined()
    }
}

extension AuditEntry {
    /// The entries as CSV, one line each, with a header.
    public static func csv(_ entries: [AuditEntry]) -> String {
        let format = ISO8601DateFormatter()
        return CSV.table(
            header: ["at", "user", "action", "patient_id", "study_instance_uid", "case", "client_address", "detail"],
            rows: entries.map { entry in
                [
                    entry.at.map(format.string(from:)) ?? "", entry.username, entry.action, entry.patientID ?? "",
                    entry.studyInstanceUID ?? "", entry.caseID.map(String.init) ?? "", entry.clientAddress ?? "",
                    entry.detailJSON,
                ]
            })
    }
}
