import Foundation
import Yams

/// Builds `DaemonSettings` in layers: the defaults, then the YAML file, then `DELINEATE_*`
/// environment variables, then `--set key=value` overrides; then validates the result. Every
/// error names the key and where its value came from.
public struct SettingsLoader {
    let keys = SettingKey.all
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The settings from `file` (nil: none), the environment and `overrides` ("key=value"), validated.
    public func load(file: String?, overrides: [String] = []) throws(SettingsError) -> DaemonSettings {
        var settings = DaemonSettings()
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw SettingsError("cannot read the configuration file \(file): \(error.localizedDescription)")
            }
            try apply(yaml: text, named: file, to: &settings)
        }
        for key in keys {
            guard let value = environment[key.variable], !value.isEmpty else { continue }
            try assign(.scalar(value), to: key, in: &settings, from: "environment variable \(key.variable)")
        }
        for override in overrides {
            let parts = override.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, let key = keys.first(where: { $0.name == parts[0] }) else {
                throw SettingsError("--set \(override): expected key=value with a known key (delineate config --keys)")
            }
            try assign(.scalar(parts[1]), to: key, in: &settings, from: "--set")
        }
        try settings.validate()
        return settings
    }

    /// Applies a YAML document of nested mappings whose leaves are the keys' values.
    func apply(yaml text: String, named file: String, to settings: inout DaemonSettings) throws(SettingsError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw SettingsError("\(file) is not valid YAML: \(error)")
        }
        guard let root else { return }
        guard let mapping = root.mapping else { throw SettingsError("\(file): the top level must be a mapping") }
        try walk(mapping, prefix: "", file: file, into: &settings)
    }

    private func walk(_ mapping: Node.Mapping, prefix: String, file: String, into settings: inout DaemonSettings)
        throws(SettingsError)
    {
        for (keyNode, valueNode) in mapping {
            let name = prefix + (keyNode.scalar?.string ?? "?")
            let place = "\(file) line \(keyNode.mark?.line ?? 0)"
            if let key = keys.first(where: { $0.name == name }) {
                if valueNode.null != nil { continue }
                try assign(try Self.value(of: valueNode, key: name, place: place), to: key, in: &settings, from: place)
            } else if let nested = valueNode.mapping, keys.contains(where: { $0.name.hasPrefix(name + ".") }) {
                try walk(nested, prefix: name + ".", file: file, into: &settings)
            } else {
                throw SettingsError("\(name) (\(place)) is not a configuration key")
            }
        }
    }

    private static func value(of node: Node, key: String, place: String) throws(SettingsError) -> SettingValue {
        if let scalar = node.scalar { return .scalar(scalar.string) }
        if let sequence = node.sequence {
            var items: [String] = []
            for item in sequence {
                guard let scalar = item.scalar else { throw SettingsError("\(key) (\(place)): list items are values") }
                items.append(scalar.string)
            }
            return .list(items)
        }
        throw SettingsError("\(key) (\(place)): expected a value, found a mapping")
    }

    private func assign(
        _ value: SettingValue, to key: SettingKey, in settings: inout DaemonSettings, from place: String
    )
        throws(SettingsError)
    {
        do {
            try key.assign(&settings, value)
        } catch {
            throw SettingsError("\(key.name) (\(place)): \(error.reason)")
        }
    }

    /// The comma-separated items of `text`, trimmed, empty ones dropped: how the environment and
    /// the command line write a list.
    public static func commaSeparated(_ text: String) -> [String] {
        items(of: text, separatedBy: ",")
    }

    /// The non-empty items of `text` between `separator`s, without surrounding spaces.
    static func items(of text: String, separatedBy separator: Character) -> [String] {
        text.split(separator: separator).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The effective settings as `key: value` lines, passwords hidden.
    public func describe(_ settings: DaemonSettings) -> String {
        keys.map { "\($0.name): \($0.show(settings))" }.joined(separator: "\n")
    }
}
