/// Calls into the CDCMTK shim, whose functions report failure with a reason in a caller-provided buffer.

/// Calls a shim function that returns a handle, or NULL with the reason in the buffer.
func shimHandle(
    _ code: DicomError.Code, _ body: (UnsafeMutablePointer<CChar>, Int) -> OpaquePointer?
) throws(DicomError) -> OpaquePointer {
    var message = [CChar](repeating: 0, count: 512)
    let count = message.count
    guard let result = message.withUnsafeMutableBufferPointer({ body($0.baseAddress!, count) }) else {
        throw DicomError(code, String(shimMessage: message))
    }
    return result
}

/// Calls a shim function that returns 0 on success, or non-zero with the reason in the buffer.
func shimStatus(_ code: DicomError.Code, _ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws(DicomError) {
    var message = [CChar](repeating: 0, count: 512)
    let count = message.count
    guard message.withUnsafeMutableBufferPointer({ body($0.baseAddress!, count) }) == 0 else {
        throw DicomError(code, String(shimMessage: message))
    }
}

extension String {
    /// The NUL-terminated text a shim function wrote into an error buffer.
    init(shimMessage buffer: [CChar]) {
        self = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
