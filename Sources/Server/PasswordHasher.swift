import HummingbirdBcrypt

/// Hashes and checks user passwords with bcrypt.
public enum PasswordHasher {
    /// bcrypt cost; 12 takes about 0.25 s on this class of CPU.
    public static let cost: UInt8 = 12

    /// A bcrypt hash of `password` (with its own random salt).
    public static func hash(_ password: String, cost: UInt8 = cost) -> String {
        Bcrypt.hash(password, cost: cost)
    }

    /// Whether `password` matches `hash`.
    public static func verify(_ password: String, against hash: String) -> Bool {
        Bcrypt.verify(password, hash: hash)
    }
}
