/// SMART on FHIR scopes, v2 (`patient/Observation.rs`, `user/*.cruds`, `system/*.rs`) and the
/// v1 forms (`patient/*.read`, `system/*.write`, `user/*.*`).
/// https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
public struct ScopeSet: Sendable, Equatable {
    public enum Context: String, Sendable { case patient, user, system }

    /// What an interaction needs, as SMART v2 letters.
    public enum Permission: Character, Sendable, CaseIterable {
        case create = "c", read = "r", update = "u", delete = "d", search = "s"
    }

    public struct Scope: Sendable, Equatable {
        public var context: Context
        /// A resource type, or `*`.
        public var type: String
        public var permissions: Set<Character>
    }

    public let scopes: [Scope]
    /// Non-resource scopes (`openid`, `fhirUser`, `launch/patient`, `offline_access`, …).
    public let other: [String]

    public init(_ text: String) {
        var scopes: [Scope] = []
        var other: [String] = []
        for raw in text.split(separator: " ") {
            let s = String(raw)
            guard let slash = s.firstIndex(of: "/"), let ctx = Context(rawValue: String(s[..<slash])),
                  let dot = s.lastIndex(of: "."), dot > slash else {
                other.append(s)
                continue
            }
            // Scopes narrowed by a query (`patient/Observation.rs?category=…`) are not granted
            // until that narrowing is enforced: refusing is the safe reading.
            if s.contains("?") { other.append(s); continue }
            let type = String(s[s.index(after: slash)..<dot])
            let perms = String(s[s.index(after: dot)...])
            var set = Set<Character>()
            switch perms {
            case "read": set = ["r", "s"]
            case "write": set = ["c", "u", "d"]
            case "*": set = ["c", "r", "u", "d", "s"]
            default:
                // v2: letters in the order c, r, u, d, s, each at most once
                let order: [Character] = ["c", "r", "u", "d", "s"]
                var last = -1
                var ok = !perms.isEmpty
                for ch in perms {
                    guard let i = order.firstIndex(of: ch), i > last else { ok = false; break }
                    last = i
                    set.insert(ch)
                }
                if !ok { other.append(s); continue }
            }
            guard type == "*" || type.allSatisfy({ $0.isLetter }) else { other.append(s); continue }
            scopes.append(Scope(context: ctx, type: type, permissions: set))
        }
        self.scopes = scopes
        self.other = other
    }

    /// True if some scope of `context` grants `permission` on `type`.
    public func allows(_ permission: Permission, on type: String, context: Context) -> Bool {
        scopes.contains { $0.context == context && ($0.type == "*" || $0.type == type) && $0.permissions.contains(permission.rawValue) }
    }

    public var description: String {
        (scopes.map { "\($0.context.rawValue)/\($0.type).\(String($0.permissions.sorted { "cruds".firstIndex(of: $0)! < "cruds".firstIndex(of: $1)! }))" } + other)
            .joined(separator: " ")
    }
}
