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
/// `maxAssociations` at once per port, never on Swift's cooperative pool. It listens on one or more
/// ports, each plain or TLS. One per process.
public final class StorageSCP: @unchecked Sendable {
    /// Receives each instance as a file path and the calling AE title; returns the status to answer.
    public typealias Handler = @Sendable (_ path: String, _ callingAE: String) -> StoreStatus

    /// A port to listen on; with `tls`, only callers whose certificate its trusted certificates
    /// verify get an association (our certificate and key are required).
    public struct Port: Sendable, Equatable {
        public var number: Int
        public var tls: TLSSettings?

        public init(_ number: Int, tls: TLSSettings? = nil) {
            self.number = number
            self.tls = tls
        }
    }

    private let handle: OpaquePointer
    private let handlerBox: Unmanaged<HandlerBox>
    private let listenerCount: Int
    private let finished = DispatchSemaphore(value: 0)

    private final class HandlerBox {
        let handler: Handler
        init(_ handler: @escaping Handler) { self.handler = handler }
    }

    /// Starts listening on `ports` at once.
    /// - Parameters:
    ///   - aeTitle: our called AE title.
    ///   - allowedCallingAEs: callers accepted; empty accepts any.
    ///   - sopClasses: storage SOP Class UIDs accepted (Verification is always accepted).
    ///   - temporaryDirectory: where received files wait until the handler has stored them.
    public init(
        aeTitle: String, ports: [Port], maxAssociations: Int = 8, allowedCallingAEs: [String],
        sopClasses: Set<String>, temporaryDirectory: String, handler: @escaping Handler
    ) throws(DicomError) {
        do {
            try FileManager.default.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
        } catch {
            throw DicomError(.association, "cannot create \(temporaryDirectory): \(error.localizedDescription)")
        }
        let box = Unmanaged.passRetained(HandlerBox(handler))
        guard
            let handle = dk_storage_scp_new(
                aeTitle, UInt16(clamping: maxAssociations), allowedCallingAEs.joined(separator: "\\"),
                sopClasses.sorted().joined(separator: "\\"), temporaryDirectory,
                { context, path, callingAE in
                    let box = Unmanaged<HandlerBox>.fromOpaque(context!).takeUnretainedValue()
                    return box.handler(String(cString: path!), String(cString: callingAE!)).rawValue
                }, box.toOpaque())
        else {
            box.release()
            throw DicomError(.association, "cannot create the storage SCP")
        }
        var indices: [Int32] = []
        for port in ports {
            var message = [CChar](repeating: 0, count: 512)
            let index = TLSSettings.withShimSettings(port.tls) {
                dk_storage_scp_add_port(handle, UInt16(clamping: port.number), $0, &message, message.count)
            }
            guard index >= 0 else {
                dk_storage_scp_free(handle)
                box.release()
                throw DicomError(.association, "port \(port.number): \(String(shimMessage: message))")
            }
            indices.append(index)
        }
        self.handle = handle
        self.handlerBox = box
        self.listenerCount = indices.count
        let finished = self.finished
        // Each listener thread uses only its own port of the handle until stop() asks it to return.
        nonisolated(unsafe) let shared = handle
        for (index, port) in zip(indices, ports) {
            let thread = Thread {
                var message = [CChar](repeating: 0, count: 512)
                if dk_storage_scp_listen(shared, index, &message, message.count) != 0 {
                    FileHandle.standardError.write(
                        Data("storage SCP port \(port.number) stopped: \(String(shimMessage: message))\n".utf8))
                }
                finished.signal()
            }
            thread.name = "delineate.storage-scp.\(port.number)"
            thread.start()
        }
    }

    /// Stops after the associations in progress and waits until every listener has returned.
    public func stop() {
        dk_storage_scp_stop(handle)
        for _ in 0..<listenerCount { finished.wait() }
        for _ in 0..<listenerCount { finished.signal() }
    }

    deinit {
        dk_storage_scp_free(handle)
        handlerBox.release()
    }
}
