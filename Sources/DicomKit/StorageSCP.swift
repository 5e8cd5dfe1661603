import CDCMTK
import Foundation

/// DIMSE status codes a C-STORE SCP answers with.
public enum StoreStatus: UInt16, Sendable {
    case success = 0x0000
    /// Refused: out of resources (the instance could not be stored; retry later).
    case outOfResources = 0xA700
    /// Error: data set does not match SOP class (required attributes missing or wrong).
    case dataSetDoesNotMatch = 0xA900
    /// Error: cannot understand (the stream could not be parsed).
    case cannotUnderstand = 0xC000
}

/// A C-STORE SCP (DCMTK's DcmSCPPool): associations run on DCMTK worker threads, up to
/// `maxAssociations` at once, never on Swift's cooperative pool. One per process.
public final class StorageSCP: @unchecked Sendable {
    /// Receives each instance as a file path and the calling AE title; returns the status to answer.
    public typealias Handler = @Sendable (_ path: String, _ callingAE: String) -> StoreStatus

    private let handle: OpaquePointer
    private let handlerBox: Unmanaged<HandlerBox>
    private let thread: Thread
    private let finished = DispatchSemaphore(value: 0)

    private final class HandlerBox {
        let handler: Handler
        init(_ handler: @escaping Handler) { self.handler = handler }
    }

    /// Starts listening on `port` at once.
    /// - Parameters:
    ///   - aeTitle: our called AE title.
    ///   - allowedCallingAEs: callers accepted; empty accepts any.
    ///   - sopClasses: storage SOP Class UIDs accepted (Verification is always accepted).
    ///   - temporaryDirectory: where received files wait until the handler has stored them.
    public init(
        aeTitle: String, port: Int, maxAssociations: Int = 8, allowedCallingAEs: [String], sopClasses: Set<String>,
        temporaryDirectory: String, handler: @escaping Handler
    ) throws(DicomError) {
        do {
            try FileManager.default.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
        } catch {
            throw DicomError(.association, "cannot create \(temporaryDirectory): \(error.localizedDescription)")
        }
        handlerBox = Unmanaged.passRetained(HandlerBox(handler))
        guard
            let handle = dk_storage_scp_new(
                aeTitle, UInt16(clamping: port), UInt16(clamping: maxAssociations),
                allowedCallingAEs.joined(separator: "\\"), sopClasses.sorted().joined(separator: "\\"),
                temporaryDirectory,
                { context, path, callingAE in
                    let box = Unmanaged<HandlerBox>.fromOpaque(context!).takeUnretainedValue()
                    return box.handler(String(cString: path!), String(cString: callingAE!)).rawValue
                }, handlerBox.toOpaque())
        else {
            handlerBox.release()
            throw DicomError(.association, "cannot create the storage SCP")
        }
        self.handle = handle
        let finished = self.finished
        // The listener thread is the only user of the handle until stop() asks it to return.
        nonisolated(unsafe) let listener = handle
        thread = Thread {
            var message = [CChar](repeating: 0, count: 512)
            if dk_storage_scp_listen(listener, &message, message.count) != 0 {
                FileHandle.standardError.write(Data("storage SCP stopped: \(String(shimMessage: message))\n".utf8))
            }
            finished.signal()
        }
        thread.name = "delineate.storage-scp"
        thread.start()
    }

    /// Stops after the associations in progress and waits until the listener has returned.
    public func stop() {
        dk_storage_scp_stop(handle)
        finished.wait()
        finished.signal()
    }

    deinit {
        dk_storage_scp_free(handle)
        handlerBox.release()
    }
}
