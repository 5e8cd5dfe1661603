import DelineateTesting
import Foundation
import Testing

/// Deploy/systemd and Deploy/logrotate checked by the tools that will read them.
@Suite struct ServiceFilesTests {
    static let deploy =
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/Deploy"

    var delineate: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("delineate").path
    }

    func temporaryFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func systemdVerifiesBothUnitsWithoutAWarning() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The units name /usr/bin/delineate; here the built binary stands in for the installed one.
        var units: [String] = []
        for (file, instance) in [
            ("delineate.service", "delineate.service"), ("delineate-worker@.service", "delineate-worker@1.service"),
        ] {
            let text = try String(contentsOfFile: "\(Self.deploy)/systemd/\(file)", encoding: .utf8)
            #expect(text.contains("ExecStart=/usr/bin/delineate "))
            try text.replacingOccurrences(of: "/usr/bin/delineate", with: delineate)
                .write(toFile: "\(folder)/\(instance)", atomically: true, encoding: .utf8)
            units.append("\(folder)/\(instance)")
        }
        let output = try Process.output(of: "/usr/bin/systemd-analyze", arguments: ["verify"] + units)
        #expect(output.isEmpty, "\(output)")
        // A misspelt option is reported, so the empty output above means something.
        try "[Service]\nExecStart=\(delineate) serve\nProtectSystm=yes\n".write(
            toFile: "\(folder)/broken.service", atomically: true, encoding: .utf8)
        let broken = try Process.output(
            of: "/usr/bin/systemd-analyze", arguments: ["verify", "\(folder)/broken.service"])
        #expect(broken.contains("Unknown key 'ProtectSystm'"))
    }

    @Test func theUnitsRunSubcommandsThatExist() throws {
        for (file, subcommand) in [("delineate.service", "serve"), ("delineate-worker@.service", "worker")] {
            let text = try String(contentsOfFile: "\(Self.deploy)/systemd/\(file)", encoding: .utf8)
            #expect(text.contains("ExecStart=/usr/bin/delineate \(subcommand) --config /etc/delineate/delineate.yaml"))
            #expect(text.contains("ExecStartPre=/usr/bin/delineate config --config /etc/delineate/delineate.yaml"))
            let help = try Process.output(of: delineate, arguments: [subcommand, "--help"])
            #expect(help.contains("--config") && help.contains("--set"))
        }
    }

    @Test func logrotateRotatesByCopyAndTruncate() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The shipped rules, pointed at a test folder, without the switch to the delineate user.
        let rules = try String(contentsOfFile: "\(Self.deploy)/logrotate/delineate", encoding: .utf8)
            .replacingOccurrences(of: "/var/log/delineate", with: folder)
            .split(separator: "\n").filter { !$0.contains(" su ") }.joined(separator: "\n")
        try rules.write(toFile: "\(folder)/rules", atomically: true, encoding: .utf8)
        try String(repeating: "2026-11-23T10:00:00+0000 info delineate: a line\n", count: 100).write(
            toFile: "\(folder)/delineate.log", atomically: true, encoding: .utf8)
        _ = try Process.output(
            of: "/usr/sbin/logrotate", arguments: ["--force", "--state", "\(folder)/state", "\(folder)/rules"])
        let rotated = try String(contentsOfFile: "\(folder)/delineate.log.1", encoding: .utf8)
        #expect(rotated.split(separator: "\n").count == 100)
        #expect(try FileManager.default.attributesOfItem(atPath: "\(folder)/delineate.log")[.size] as? Int == 0)
    }
}
