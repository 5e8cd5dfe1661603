import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A content-addressed store of DICOM files: each file is named by the SHA-256 of its bytes,
/// written to a temporary name, fsynced, renamed into place and its folder fsynced, so a file
/// that is visible is always complete.
public struct FileStore: Sendable {
    public let root: String

    public init(root: String) throws(StoreError) {
        self.root = root
        do {
            try FileManager.default.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)
        } catch {
            throw StoreError(.query, "cannot create the file store at \(root): \(error.localizedDescription)")
        }
    }

    /// The path a file with this digest has in the store.
    public func path(sha256: String) -> String {
        "\(root)/\(sha256.prefix(2))/\(sha256.dropFirst(2).prefix(2))/\(sha256).dcm"
    }

    /// Stores `bytes` durably and returns their SHA-256; storing the same bytes twice is a no-op.
    public func put(_ bytes: [UInt8]) throws(StoreError) -> String {
        let digest = SHA256.hex(bytes)
        let target = path(sha256: digest)
        if FileManager.default.fileExists(atPath: target) { return digest }
        let folder = (target as NSString).deletingLastPathComponent
        let temporary = "\(root)/tmp/\(digest).\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.query, "cannot create \(folder): \(error.localizedDescription)")
        }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o640)
        guard descriptor >= 0 else { throw Self.systemError("cannot create \(temporary)") }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            if result < 0 {
                let error = Self.systemError("cannot write \(temporary)")
                close(descriptor)
                unlink(temporary)
                throw error
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            let error = Self.systemError("cannot fsync \(temporary)")
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        guard rename(temporary, target) == 0 else {
            let error = Self.systemError("cannot move \(temporary) into place")
            unlink(temporary)
            throw error
        }
        let folderDescriptor = open(folder, O_RDONLY | O_DIRECTORY)
        if folderDescriptor >= 0 {
            fsync(folderDescriptor)
            close(folderDescriptor)
        }
        return digest
    }

    /// The bytes stored under `sha256`.
    public func get(sha256: String) throws(StoreError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(sha256: sha256)) else {
            throw StoreError(.notFound, "file \(sha256) is not in the store")
        }
        return [UInt8](data)
    }

    private static func systemError(_ message: String) -> StoreError {
        StoreError(.query, "\(message): \(String(cString: strerror(errno)))")
    }
}
