import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The system resolver (`getaddrinfo`, the one the HTTP client would use), for the check of a
/// rest-hook endpoint's addresses before each delivery (`EndpointPolicy.check(addresses:of:)`).
public enum HostResolver {
    /// A name that could not be resolved (the endpoint cannot be reached: retried like one that
    /// does not answer).
    public struct Failure: Error, CustomStringConvertible {
        public let host: String
        public let code: Int32
        public var description: String { "could not resolve \(host) (getaddrinfo \(code))" }
    }

    /// Every IPv4 and IPv6 address `host` resolves to, in the resolver's order, without
    /// duplicates. Runs the blocking call off the cooperative pool.
    public static func addresses(of host: String) async throws -> [IPAddress] {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try resolve(host) })
            }
        }
    }

    static func resolve(_ host: String) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, nil, &hints, &list)
        guard code == 0 else { throw Failure(host: host, code: code) }
        defer { freeaddrinfo(list) }
        var out: [IPAddress] = []
        var next = list
        while let info = next {
            if let sa = info.pointee.ai_addr {
                var bytes: [UInt8] = []
                if info.pointee.ai_family == AF_INET {
                    sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                        withUnsafeBytes(of: p.pointee.sin_addr) { bytes = Array($0) }
                    }
                } else if info.pointee.ai_family == AF_INET6 {
                    sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                        withUnsafeBytes(of: p.pointee.sin6_addr) { bytes = Array($0) }
                    }
                }
                if let a = IPAddress(bytes: bytes), !out.contains(a) { out.append(a) }
            }
            next = info.pointee.ai_next
        }
        return out
    }
}
