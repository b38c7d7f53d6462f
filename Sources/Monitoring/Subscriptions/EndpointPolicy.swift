import Foundation

/// Where rest-hook notifications may be sent (docs/subscriptions.md, "Where notifications may
/// go"): the operator's setting `ENLACE_SUBSCRIPTION_ENDPOINTS` / `enlace serve
/// --subscription-endpoints`, a comma-separated list of
///
/// - `public` — any public address (the default when the setting is absent or empty);
/// - a host name (`hooks.example.org`, `localhost`) — that name, whatever it resolves to;
/// - a wildcard domain (`*.example.org`) — every name under it (not `example.org` itself);
/// - an IP address or CIDR block, IPv4 or IPv6 (`192.168.1.20`, `10.0.0.0/8`, `fd00::/8`,
///   `::1/128`) — endpoints whose address is in it;
/// - `none` alone — no rest-hook endpoint at all (websocket Subscriptions are not affected).
///
/// An address that is not public — loopback, private (RFC 1918, `fc00::/7`), link-local
/// (`169.254.0.0/16` with the cloud metadata address, `fe80::/10`), unspecified, multicast,
/// broadcast and reserved, shared CGNAT `100.64.0.0/10`, documentation and benchmarking ranges,
/// and the IPv6 forms that carry one of those (IPv4-mapped `::ffff:a.b.c.d`, NAT64
/// `64:ff9b::/96`, 6to4 `2002::/16`) — is allowed only when a listed block contains it or the
/// endpoint's host name is listed.
///
/// Pure: nothing here resolves a name. `check(endpoint:)` decides what can be decided from the
/// URL alone (at create and update, and before each delivery); a host name that is not listed
/// must then be resolved and every address it resolves to checked with `check(addresses:of:)`
/// (at each delivery, so a name that later resolves inside the network — DNS rebinding — is
/// refused then).
public struct EndpointPolicy: Sendable, Equatable, CustomStringConvertible {
    /// One entry of the setting.
    public enum Entry: Sendable, Equatable, CustomStringConvertible {
        case publicAddresses
        case host(String)
        /// A wildcard domain, stored without its `*.` (`example.org` for `*.example.org`).
        case domain(String)
        case block(IPBlock)

        public var description: String {
            switch self {
            case .publicAddresses: return "public"
            case .host(let h): return h
            case .domain(let d): return "*." + d
            case .block(let b): return b.description
            }
        }
    }

    public let entries: [Entry]

    /// The name of the setting, as errors name it.
    public static let settingName = "ENLACE_SUBSCRIPTION_ENDPOINTS (enlace serve --subscription-endpoints)"

    /// The default: public addresses only.
    public static let publicOnly = EndpointPolicy(entries: [.publicAddresses])
    /// No rest-hook endpoint at all (`none`).
    public static let refusingAll = EndpointPolicy(entries: [])

    public init(entries: [Entry]) { self.entries = entries }

    /// A malformed setting, with what is wrong with which entry.
    public struct SettingError: Error, Equatable, CustomStringConvertible {
        public let entry: String
        public let english: String
        public let spanish: String
        public var description: String { "\(EndpointPolicy.settingName): '\(entry)': \(english)" }
    }

    /// Parses the setting: each element may itself hold several entries separated by commas;
    /// blanks around entries and empty entries are ignored; nothing at all means the default
    /// (`public`). Throws `SettingError` for the first entry that is none of the forms.
    public init(_ setting: [String]) throws {
        let items = setting.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if items.isEmpty {
            self = .publicOnly
            return
        }
        if items.contains(where: { $0.lowercased() == "none" }) {
            guard items.count == 1 else {
                throw SettingError(entry: "none", english: "'none' (no rest-hook endpoint at all) cannot be combined with other entries",
                                   spanish: "'none' (ningún punto rest-hook) no puede combinarse con otras entradas")
            }
            self = .refusingAll
            return
        }
        entries = try items.map(EndpointPolicy.entry)
    }

    /// A comma-separated setting (the environment variable).
    public init(setting: String) throws { try self.init([setting]) }

    static func entry(_ text: String) throws -> Entry {
        let lower = text.lowercased()
        func bad(_ en: String, _ es: String) -> SettingError { SettingError(entry: text, english: en, spanish: es) }
        if lower == "public" { return .publicAddresses }
        if lower.contains("://") {
            throw bad("name a host, a *.domain or an IP block, not a URL", "indique un host, un *.dominio o un bloque IP, no una URL")
        }
        if lower.contains("/") || lower.contains(":") || lower.hasPrefix("[") {
            guard let block = IPBlock(lower) else {
                throw bad(lower.contains("/") ? "not an IP address with a prefix length (like 10.0.0.0/8 or fd00::/8)"
                    : "not an IP address (a port is not part of this setting)",
                          lower.contains("/") ? "no es una dirección IP con longitud de prefijo (como 10.0.0.0/8 o fd00::/8)"
                    : "no es una dirección IP (un puerto no forma parte de esta opción)")
            }
            guard block.isCanonical else {
                throw bad("the address has bits set past the prefix length; did you mean \(block.network)?",
                          "la dirección tiene bits después de la longitud del prefijo; ¿quiso decir \(block.network)?")
            }
            return .block(block.normalised)
        }
        if let a = IPAddress(lower) { return .block(IPBlock(address: a, prefix: a.bitCount)) }
        if lower == "*" {
            throw bad("'*' alone is not allowed: use 'public' for every public address", "'*' solo no se admite: use 'public' para toda dirección pública")
        }
        if lower.hasPrefix("*.") {
            let rest = String(lower.dropFirst(2))
            guard HostName.isValid(rest), !HostName.endsInNumber(rest) else {
                throw bad("not a wildcard domain like *.example.org", "no es un dominio comodín como *.example.org")
            }
            return .domain(HostName.normalised(rest))
        }
        guard !HostName.endsInNumber(lower) else {
            throw bad("not an IP address (like 192.168.1.20) nor a host name", "no es una dirección IP (como 192.168.1.20) ni un nombre de host")
        }
        guard HostName.isValid(lower) else {
            throw bad("not a host name, a *.domain, an IP address or block, 'public' or 'none'",
                      "no es un nombre de host, un *.dominio, una dirección o bloque IP, 'public' ni 'none'")
        }
        return .host(HostName.normalised(lower))
    }

    public var description: String { entries.isEmpty ? "none" : entries.map(\.description).joined(separator: ",") }

    /// What the policy says of an endpoint or of the addresses its host resolved to.
    public enum Verdict: Sendable, Equatable {
        /// Allowed as it is: a listed host name, or an allowed IP address.
        case allowed
        /// A host name that is not listed: allowed only if every address it resolves to is
        /// (`check(addresses:of:)`).
        case resolve(String)
        /// Refused, with why (English, Spanish).
        case refused(english: String, spanish: String)
    }

    /// Does the list name this host (exactly, or under a wildcard domain)?
    public func names(_ host: String) -> Bool {
        let h = HostName.normalised(host.lowercased())
        return entries.contains { e in
            switch e {
            case .host(let name): return name == h
            case .domain(let d): return h.hasSuffix("." + d)
            default: return false
            }
        }
    }

    /// May an endpoint at this address be sent to?
    public func allows(_ address: IPAddress) -> Bool {
        for e in entries {
            switch e {
            case .publicAddresses where address.specialRange == nil: return true
            case .block(let b) where b.contains(address): return true
            default: continue
            }
        }
        return false
    }

    /// The host of an http(s) URL as the HTTP client connects to it (Foundation's parse, the
    /// one AsyncHTTPClient uses), lowercased, without brackets or a trailing dot.
    public static func host(of endpoint: String) -> String? {
        guard let url = URL(string: endpoint), let host = url.host, !host.isEmpty else { return nil }
        var h = host.lowercased()
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        return HostName.normalised(h)
    }

    /// What can be decided from the endpoint URL alone.
    public func check(endpoint: String) -> Verdict {
        guard let host = EndpointPolicy.host(of: endpoint) else {
            return .refused(english: "the endpoint has no host", spanish: "el punto de entrega no tiene host")
        }
        if entries.isEmpty {
            return .refused(english: "this server sends no rest-hook notifications (\(EndpointPolicy.settingName) is 'none'); use a websocket channel",
                            spanish: "este servidor no envía notificaciones rest-hook (\(EndpointPolicy.settingName) es 'none'); use un canal websocket")
        }
        if host.contains(":") || host.contains("%") {
            guard let a = IPAddress(host) else {
                return .refused(english: "'\(host)' is not a valid IPv6 address", spanish: "'\(host)' no es una dirección IPv6 válida")
            }
            return check(addresses: [a], of: host)
        }
        if HostName.endsInNumber(host) {
            // the forms inet_aton reads (127.1, 0x7f.0.0.1, 2130706433) are addresses too
            guard let a = IPAddress.lenientIPv4(host) else {
                return .refused(english: "'\(host)' is not a valid IPv4 address", spanish: "'\(host)' no es una dirección IPv4 válida")
            }
            return check(addresses: [a], of: host)
        }
        if names(host) { return .allowed }
        if host == "localhost" || host.hasSuffix(".localhost") {
            // RFC 6761: always the server itself
            return check(addresses: [IPAddress("127.0.0.1")!, IPAddress("::1")!], of: host)
        }
        // a name that is not listed may still resolve to an allowed address
        let byAddress = entries.contains { e in
            switch e {
            case .publicAddresses, .block: return true
            case .host, .domain: return false
            }
        }
        guard byAddress else {
            return .refused(english: "the host \(host) is not one this server sends notifications to (allowed: \(description))",
                            spanish: "el host \(host) no es uno al que este servidor envíe notificaciones (permitidos: \(description))")
        }
        return .resolve(host)
    }

    /// Every address `host` resolved to must be allowed (one that is not is enough to refuse:
    /// the HTTP client might pick it). No address at all is refused too.
    public func check(addresses: [IPAddress], of host: String) -> Verdict {
        guard !addresses.isEmpty else {
            return .refused(english: "the host \(host) resolved to no address", spanish: "el host \(host) no se resolvió a ninguna dirección")
        }
        for a in addresses where !allows(a) {
            let shown = a.description == host ? host : "\(host) (\(a))"
            let why = a.specialRange.map { (" is \($0.english) (\($0.block))", " es \($0.spanish) (\($0.block))") }
                ?? (" is not in the allowed list (\(description))", " no está en la lista permitida (\(description))")
            return .refused(english: "the endpoint \(shown)\(why.0): this server does not send notifications there unless its operator lists it in \(EndpointPolicy.settingName)",
                            spanish: "el punto de entrega \(shown)\(why.1): este servidor no envía notificaciones ahí salvo que su operador lo incluya en \(EndpointPolicy.settingName)")
        }
        return .allowed
    }
}

/// An IPv4 or IPv6 address (4 or 16 bytes, network order).
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    public var isIPv4: Bool { bytes.count == 4 }
    public var bitCount: Int { bytes.count * 8 }

    /// Strict parse: dotted-quad IPv4 (four decimal numbers 0–255, no leading zeros) or IPv6
    /// (RFC 4291 text, `::` once, an IPv4 tail allowed; no zone, no brackets).
    public init?(_ text: String) {
        if text.contains(":") {
            guard let b = IPAddress.parseIPv6(text) else { return nil }
            bytes = b
        } else {
            guard let b = IPAddress.parseDottedQuad(text) else { return nil }
            bytes = b
        }
    }

    static func parseDottedQuad(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }), !(p.count > 1 && p.hasPrefix("0")),
                  let n = Int(p), n <= 255 else { return nil }
            out.append(UInt8(n))
        }
        return out
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, !text.contains("%") else { return nil }
        var head: [UInt16] = [], tail: [UInt16] = []
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ s: String, allowIPv4: Bool) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            for (i, p) in parts.enumerated() {
                if allowIPv4, i == parts.count - 1, p.contains(".") {
                    guard let v4 = parseDottedQuad(String(p)) else { return nil }
                    out.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    out.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard (1...4).contains(p.count), p.allSatisfy({ $0.isHexDigit && $0.isASCII }), let n = UInt16(p, radix: 16) else { return nil }
                out.append(n)
            }
            return out
        }
        if halves.count == 2 {
            guard let h = groups(halves[0], allowIPv4: false), let t = groups(halves[1], allowIPv4: true), h.count + t.count <= 7 else { return nil }
            head = h
            tail = t
        } else {
            guard let h = groups(halves[0], allowIPv4: true), h.count == 8 else { return nil }
            head = h
        }
        let all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    /// The IPv4 forms `inet_aton` (and so `getaddrinfo`) reads, after the WHATWG URL IPv4
    /// parser: one to four parts, each decimal, octal (a leading `0`) or hex (`0x`), the last
    /// filling the remaining bytes (`127.1`, `0x7f000001`, `2130706433`, `0177.0.0.1`). Nil if
    /// a part is not a number or out of range.
    public static func lenientIPv4(_ text: String) -> IPAddress? {
        var parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 1, parts.last == "" { parts.removeLast() }
        guard (1...4).contains(parts.count) else { return nil }
        var numbers: [UInt64] = []
        for p in parts {
            guard !p.isEmpty else { return nil }
            var digits = Substring(p.lowercased())
            var radix = 10
            if digits.hasPrefix("0x") {
                digits = digits.dropFirst(2)
                radix = 16
            } else if digits.count > 1, digits.hasPrefix("0") {
                digits = digits.dropFirst()
                radix = 8
            }
            if digits.isEmpty {
                numbers.append(0)
                continue
            }
            guard digits.count <= 32, let n = UInt64(digits, radix: radix) else { return nil }
            numbers.append(n)
        }
        for n in numbers.dropLast() where n > 255 { return nil }
        let last = numbers.last!
        guard last < (UInt64(1) << (8 * UInt64(5 - numbers.count))) else { return nil }
        var value = last
        for (i, n) in numbers.dropLast().enumerated() { value += n << (8 * UInt64(3 - i)) }
        return IPAddress(bytes: [UInt8(value >> 24 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)])
    }

    /// The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) stands for.
    public var mappedIPv4: IPAddress? {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff else { return nil }
        return IPAddress(bytes: Array(bytes[12..<16]))
    }

    /// The IPv4 address an IPv6 address leads to through a translator: IPv4-mapped, NAT64
    /// (`64:ff9b::/96`, RFC 6052) or 6to4 (`2002::/16`, RFC 3056).
    public var embeddedIPv4: IPAddress? {
        if let m = mappedIPv4 { return m }
        guard bytes.count == 16 else { return nil }
        if bytes[0..<12] == [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] { return IPAddress(bytes: Array(bytes[12..<16])) }
        if bytes[0] == 0x20, bytes[1] == 0x02 { return IPAddress(bytes: Array(bytes[2..<6])) }
        return nil
    }

    /// The non-public range this address is in (through the IPv4 address it embeds, for the
    /// translated forms); nil for a public address.
    public var specialRange: SpecialRange? {
        if let v4 = embeddedIPv4 { return v4.specialRange }
        if let r = SpecialRange.all.first(where: { $0.block.contains(self, mapped: false) }) { return r }
        if !isIPv4, !IPBlock.globalUnicast.contains(self, mapped: false) { return SpecialRange.notGlobalUnicast }
        return nil
    }

    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        // RFC 5952: the longest run of two or more zero groups becomes ::
        var best = (start: -1, length: 0), i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8, groups[j] == 0 { j += 1 }
                if j - i > best.length, j - i >= 2 { best = (i, j - i) }
                i = j
            } else {
                i += 1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        if best.start < 0 { return hex.joined(separator: ":") }
        return hex[0..<best.start].joined(separator: ":") + "::" + hex[(best.start + best.length)...].joined(separator: ":")
    }
}

/// An IP block (address and prefix length), as `10.0.0.0/8` or `fd00::/8`.
public struct IPBlock: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefix: Int

    public init(address: IPAddress, prefix: Int) {
        self.address = address
        self.prefix = max(0, min(prefix, address.bitCount))
    }

    /// `address/prefix` or a lone address (the whole address); brackets around an IPv6 address
    /// are allowed. Nil if malformed or the prefix is out of range.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count) else { return nil }
        var a = parts[0]
        if a.hasPrefix("["), a.hasSuffix("]") { a = String(a.dropFirst().dropLast()) }
        guard let address = IPAddress(a) else { return nil }
        var prefix = address.bitCount
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let p = Int(parts[1]),
                  p <= address.bitCount else { return nil }
            prefix = p
        }
        self.init(address: address, prefix: prefix)
    }

    /// The block's first address (the bits past the prefix cleared).
    public var network: IPBlock {
        var b = address.bytes
        for i in 0..<b.count {
            let keep = max(0, min(8, prefix - i * 8))
            b[i] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xff << (8 - keep))
        }
        return IPBlock(address: IPAddress(bytes: b)!, prefix: prefix)
    }

    /// No bits set past the prefix.
    public var isCanonical: Bool { network.address == address }

    /// An IPv4-mapped block (`::ffff:10.0.0.0/104`) as the IPv4 block it stands for.
    var normalised: IPBlock {
        if prefix >= 96, let v4 = address.mappedIPv4 { return IPBlock(address: v4, prefix: prefix - 96) }
        return self
    }

    /// Is `a` in this block? An IPv4-mapped IPv6 address counts as its IPv4 address (`mapped`).
    public func contains(_ a: IPAddress, mapped: Bool = true) -> Bool {
        if mapped, address.isIPv4, let v4 = a.mappedIPv4 { return contains(v4, mapped: false) }
        guard a.bytes.count == address.bytes.count else { return false }
        var bits = prefix
        for i in 0..<a.bytes.count where bits > 0 {
            let n = min(8, bits)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - n))
            if a.bytes[i] & mask != address.bytes[i] & mask { return false }
            bits -= n
        }
        return true
    }

    public var description: String { address.description + "/\(prefix)" }

    static let globalUnicast = IPBlock("2000::/3")!
}

/// A range of addresses that are not public (IANA's special-purpose registries), by name.
public struct SpecialRange: Sendable, Equatable {
    public let block: IPBlock
    public let english: String
    public let spanish: String

    init(_ block: String, _ english: String, _ spanish: String) {
        self.block = IPBlock(block)!
        self.english = english
        self.spanish = spanish
    }

    static let loopback = ("a loopback address (the server itself)", "una dirección de bucle local (el propio servidor)")
    static let privateNet = ("a private address", "una dirección privada")
    static let linkLocal = ("a link-local address (where cloud metadata services answer)", "una dirección de enlace local (donde responden los servicios de metadatos de la nube)")
    static let reserved = ("a reserved address", "una dirección reservada")
    static let documentation = ("a documentation address", "una dirección de documentación")

    /// Most specific first.
    public static let all: [SpecialRange] = [
        SpecialRange("0.0.0.0/8", "an unspecified address (\"this network\")", "una dirección no especificada (\"esta red\")"),
        SpecialRange("10.0.0.0/8", privateNet.0, privateNet.1),
        SpecialRange("100.64.0.0/10", "a shared (carrier-grade NAT) address", "una dirección compartida (NAT del proveedor)"),
        SpecialRange("127.0.0.0/8", loopback.0, loopback.1),
        SpecialRange("169.254.0.0/16", linkLocal.0, linkLocal.1),
        SpecialRange("172.16.0.0/12", privateNet.0, privateNet.1),
        SpecialRange("192.0.0.0/24", "an IETF protocol address", "una dirección de protocolos del IETF"),
        SpecialRange("192.0.2.0/24", documentation.0, documentation.1),
        SpecialRange("192.88.99.0/24", "a 6to4 relay address", "una dirección de relevo 6to4"),
        SpecialRange("192.168.0.0/16", privateNet.0, privateNet.1),
        SpecialRange("198.18.0.0/15", "a benchmarking address", "una dirección de pruebas de rendimiento"),
        SpecialRange("198.51.100.0/24", documentation.0, documentation.1),
        SpecialRange("203.0.113.0/24", documentation.0, documentation.1),
        SpecialRange("224.0.0.0/4", "a multicast address", "una dirección de multidifusión"),
        SpecialRange("255.255.255.255/32", "the broadcast address", "la dirección de difusión"),
        SpecialRange("240.0.0.0/4", reserved.0, reserved.1),
        SpecialRange("::/128", "the unspecified address", "la dirección no especificada"),
        SpecialRange("::1/128", loopback.0, loopback.1),
        SpecialRange("::/96", "an IPv4-compatible address (deprecated)", "una dirección compatible con IPv4 (obsoleta)"),
        SpecialRange("64:ff9b:1::/48", "a local-use NAT64 address", "una dirección NAT64 de uso local"),
        SpecialRange("100::/64", "a discard-only address", "una dirección de descarte"),
        SpecialRange("2001::/32", "a Teredo address", "una dirección Teredo"),
        SpecialRange("2001::/23", "an IETF protocol address", "una dirección de protocolos del IETF"),
        SpecialRange("2001:db8::/32", documentation.0, documentation.1),
        SpecialRange("3fff::/20", documentation.0, documentation.1),
        SpecialRange("fc00::/7", "a unique local (private) address", "una dirección local única (privada)"),
        SpecialRange("fe80::/10", linkLocal.0, linkLocal.1),
        SpecialRange("fec0::/10", "a site-local address (deprecated)", "una dirección local de sitio (obsoleta)"),
        SpecialRange("ff00::/8", "a multicast address", "una dirección de multidifusión")
    ]

    static let notGlobalUnicast = SpecialRange("::/0", "not a global unicast address", "no es una dirección unicast global")
}

/// Host names as the setting and URLs spell them.
enum HostName {
    /// Lowercased labels of letters, digits and hyphens (not first or last), 1–63 characters
    /// each, 253 in all; a trailing dot allowed.
    static func isValid(_ name: String) -> Bool {
        let n = normalised(name)
        guard !n.isEmpty, n.count <= 253 else { return false }
        return n.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.count) && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                && !label.hasPrefix("-") && !label.hasSuffix("-")
        }
    }

    static func normalised(_ name: String) -> String { name.hasSuffix(".") ? String(name.dropLast()) : name }

    /// The WHATWG URL rule: a host whose last label is a number (decimal or `0x` hex) is an IPv4
    /// address, or invalid — never a name.
    static func endsInNumber(_ name: String) -> Bool {
        guard let last = normalised(name).split(separator: ".", omittingEmptySubsequences: false).last, !last.isEmpty else { return false }
        let l = last.lowercased()
        if l.allSatisfy({ $0.isASCII && $0.isNumber }) { return true }
        return l.hasPrefix("0x") && l.dropFirst(2).allSatisfy { $0.isASCII && $0.isHexDigit }
    }
}
