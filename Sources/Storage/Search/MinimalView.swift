import FHIR
import Foundation

/// A minimal view of a type (a payer's Encounter, docs/privacy-policy.md): only these
/// top-level elements are served (plus `id` and `meta` without its security labels, tagged
/// SUBSETTED), and only these search parameters may be used on the type, anywhere in a query.
public struct MinimalView: Sendable, Equatable, Hashable {
    public var elements: [String]
    public var parameters: [String]
    public init(elements: [String], parameters: [String]) {
        self.elements = elements
        self.parameters = parameters
    }

    public func project(_ resource: JSON) -> JSON {
        guard case .object(let members) = resource else { return resource }
        var out: [(String, JSON)] = []
        for (k, v) in members {
            if k == "resourceType" || k == "id" || elements.contains(k) {
                out.append((k, v))
            } else if k == "meta" {
                var meta: [(String, JSON)] = []
                if case .object(let m) = v { meta = m.filter { ["versionId", "lastUpdated"].contains($0.0) } }
                meta.append(("tag", .array([.object([("system", .string("http://terminology.hl7.org/CodeSystem/v3-ObservationValue")),
                                                     ("code", .string("SUBSETTED"))])])))
                out.append(("meta", .object(meta)))
            }
        }
        return .object(out)
    }
}

extension Visibility {
    /// The resource as the asker may see it (projected when its type has a minimal view).
    public func present(_ r: StoredResource) -> StoredResource {
        guard let view = minimal[r.type], !r.deleted, let json = try? r.json() else { return r }
        var out = r
        out.body = view.project(json).serialized()
        return out
    }

    /// Refuses a search parameter (or `_content`/`_text`) on a type the asker sees minimally.
    func checkMinimal(_ parameter: String?, content: Bool, types: [String]) throws {
        guard !minimal.isEmpty else { return }
        for t in types {
            guard let view = minimal[t] else { continue }
            if content || (parameter.map { !view.parameters.contains($0) } ?? false) {
                let what = content ? "_content/_text" : (parameter ?? "")
                throw FHIRError(status: 403, code: "forbidden",
                                english: "\(t) is served in a minimal form to this user; the search parameter '\(what)' is not available on it (allowed: \(view.parameters.joined(separator: ", ")))",
                                spanish: "\(t) se entrega en forma mínima a este usuario; el parámetro de búsqueda '\(what)' no está disponible (permitidos: \(view.parameters.joined(separator: ", ")))")
            }
        }
    }
}

extension SearchFilter {
    /// The search parameter a leaf filter tests (nil for combinators, `_id`, `_lastUpdated`).
    var parameterName: String? {
        switch self {
        case .token(let p, _, _), .tokenText(let p, _), .string(let p, _, _), .reference(let p, _, _), .referenceURL(let p, _),
             .date(let p, _, _), .number(let p, _, _, _, _), .quantity(let p, _, _, _, _, _, _), .uri(let p, _, _),
             .missing(let p, _, _), .composite(let p, _), .chain(let p, _, _):
            return p
        default: return nil
        }
    }
}
