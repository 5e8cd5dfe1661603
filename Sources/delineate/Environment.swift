import Foundation
import Server

/// Reads DELINEATE_* configuration from the process environment.
enum Environment {
    /// The variable's value, or nil when unset or empty.
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// The comma-separated items of `text` (a flag or a variable), trimmed, empty ones dropped.
    static func list(_ text: String?) -> [String] {
        SettingsLoader.commaSeparated(text ?? "")
    }
}
