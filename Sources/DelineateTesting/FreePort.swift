import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP port on loopback that no one listens on now, chosen by the kernel (bind to port 0), so
/// tests that start servers in parallel do not pick the same port.
public enum FreePort {
    public static func next() -> Int {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(socketDescriptor >= 0, "cannot open a socket")
        defer { close(socketDescriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(socketDescriptor, generic, length) == 0 && getsockname(socketDescriptor, generic, &length) == 0
            }
        }
        precondition(bound, "cannot bind a socket on loopback")
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
