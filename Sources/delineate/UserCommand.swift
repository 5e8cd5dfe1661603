import ArgumentParser
import Foundation
import Logging
import Server
import Store

/// `delineate user`: manages local accounts.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage user accounts.", subcommands: [Add.self])

    /// `delineate user add NAME --role ROLE`: creates an account; the password is read from standard input.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user; the password is read from the first line of standard input.")

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "Login name (letters, digits, '.', '_', '-').")
        var username: String

        @Option(help: "annotator, reviewer or admin.")
        var role: String = "annotator"

        @Option(help: "Name shown in the client and in DICOM Content Creator's Name.")
        var displayName: String?

        func run() async throws {
            guard let role = Role(rawValue: role) else {
                throw ValidationError("role must be one of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let password = readLine(strippingNewline: true), password.count >= 8 else {
                throw ValidationError("give a password of at least 8 characters on standard input")
            }
            let pool = try await database.migratedPool(size: 1, logger: Logger(label: "delineate.user"))
            let user = try await UserRepository(pool: pool).create(
                username: username, displayName: displayName ?? username, role: role,
                passwordHash: PasswordHasher.hash(password))
            print("created \(user.role.rawValue) \(user.username) (id \(user.id))")
        }
    }
}
