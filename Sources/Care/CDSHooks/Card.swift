import FHIR
import Foundation

/// The language a person reads the cards in (Spanish first).
public enum Language: String, Sendable {
    case es, en

    /// From an `Accept-Language` header: English only when it comes first, else Spanish.
    public init(acceptLanguage: String?) {
        let first = acceptLanguage?.split(separator: ",").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        self = first.hasPrefix("en") ? .en : .es
    }

    public func pick(_ spanish: String, _ english: String) -> String { self == .es ? spanish : english }
}

/// A JSON object from members, leaving out the nil ones.
func object(_ members: (String, JSON?)...) -> JSON {
    .object(members.compactMap { k, v in v.map { (k, $0) } })
}

func string(_ s: String?) -> JSON? { s.map(JSON.string) }

/// A CDS Hooks 2.0 card (https://cds-hooks.hl7.org/2.0/#card-attributes).
public struct Card: Sendable {
    public enum Indicator: String, Sendable { case info, warning, critical }

    public struct Suggestion: Sendable {
        public var uuid: String
        public var label: String
        public var isRecommended: Bool
        /// (type `create`/`update`/`delete`, description, resourceIds for delete)
        public var actions: [(type: String, description: String, resourceIds: [String])]
    }

    public struct Link: Sendable {
        public var label: String
        public var url: String
    }

    public var uuid: String
    public var summary: String
    public var detail: String?
    public var indicator: Indicator
    public var sourceLabel: String
    public var sourceTopic: (code: String, display: String)?
    public var suggestions: [Suggestion] = []
    public var overrideReasons: [(code: String, display: String)] = []
    public var links: [Link] = []
    /// What the card is about, for the feedback record (not sent): the patient and the orders.
    public var patient: String
    public var orders: [String] = []

    public static let overrideSystem = "https://enlace.mx/fhir/CodeSystem/cds-override-reason"
    public static let topicSystem = "https://enlace.mx/fhir/CodeSystem/cds-topic"

    public init(uuid: String = UUID().uuidString.lowercased(), summary: String, detail: String?, indicator: Indicator, sourceLabel: String,
                patient: String) {
        self.uuid = uuid
        // CDS Hooks: summary SHOULD be under 140 characters
        self.summary = summary.count > 139 ? String(summary.prefix(138)) + "…" : summary
        self.detail = detail
        self.indicator = indicator
        self.sourceLabel = sourceLabel
        self.patient = patient
    }

    public var json: JSON {
        var source: [(String, JSON)] = [("label", .string(sourceLabel))]
        if let t = sourceTopic {
            source.append(("topic", object(("system", .string(Card.topicSystem)), ("code", .string(t.code)), ("display", .string(t.display)))))
        }
        let suggestions: JSON? = self.suggestions.isEmpty ? nil : .array(self.suggestions.map { s in
            object(("label", .string(s.label)), ("uuid", .string(s.uuid)), ("isRecommended", .bool(s.isRecommended)),
                   ("actions", .array(s.actions.map { a in
                       object(("type", .string(a.type)), ("description", .string(a.description)),
                              ("resourceId", a.resourceIds.isEmpty ? nil : .array(a.resourceIds.map(JSON.string))))
                   })))
        })
        return object(
            ("uuid", .string(uuid)),
            ("summary", .string(summary)),
            ("detail", string(detail)),
            ("indicator", .string(indicator.rawValue)),
            ("source", .object(source)),
            ("suggestions", suggestions),
            ("selectionBehavior", suggestions == nil ? nil : .string("at-most-one")),
            ("overrideReasons", overrideReasons.isEmpty ? nil : .array(overrideReasons.map {
                object(("system", .string(Card.overrideSystem)), ("code", .string($0.code)), ("display", .string($0.display)))
            })),
            ("links", links.isEmpty ? nil : .array(links.map {
                object(("label", .string($0.label)), ("url", .string($0.url)), ("type", .string("absolute")))
            }))
        )
    }
}
