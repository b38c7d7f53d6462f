import FHIR

/// Small builders for FHIR JSON (members in the order given; nil members are left out).
enum J {
    static func o(_ members: (String, JSON?)...) -> JSON { .object(members.compactMap { k, v in v.map { (k, $0) } }) }
    static func s(_ v: String?) -> JSON? { v.map { .string($0) } }
    static func a(_ v: [JSON]) -> JSON { .array(v) }
    static func n(_ v: Int) -> JSON { .number(String(v)) }
    static func ref(_ r: String, display: String? = nil) -> JSON { o(("reference", .string(r)), ("display", s(display))) }
    static func coding(_ system: String, _ code: String, _ display: String? = nil) -> JSON {
        o(("system", .string(system)), ("code", .string(code)), ("display", s(display)))
    }
    static func concept(_ system: String, _ code: String, _ display: String? = nil, text: String? = nil) -> JSON {
        o(("coding", a([coding(system, code, display)])), ("text", s(text)))
    }
    static func text(_ t: String) -> JSON { o(("text", .string(t))) }
}

/// How a journal entry is kept inside the FHIR resource it belongs to (a ClaimResponse, a
/// PaymentReconciliation): one complex extension per entry (docs/financing.md, "Where the ledger is").
public enum JournalExtension {
    public static let url = "https://enlace.mx/fhir/StructureDefinition/journal-entry"

    public static func json(_ e: JournalEntry) -> JSON {
        var parts: [JSON] = [
            J.o(("url", .string("id")), ("valueString", .string(e.id))),
            J.o(("url", .string("kind")), ("valueCode", .string(e.kind.rawValue))),
            J.o(("url", .string("period")), ("valueString", .string(e.period.description))),
            J.o(("url", .string("date")), ("valueDate", .string(e.date))),
        ]
        if let r = e.reverses { parts.append(J.o(("url", .string("reverses")), ("valueString", .string(r)))) }
        for p in e.postings {
            parts.append(J.o(("url", .string("posting")), ("extension", J.a([
                J.o(("url", .string("account")), ("valueString", .string(p.account.description))),
                J.o(("url", .string("amount")), ("valueMoney", p.amount.json)),
            ]))))
        }
        return J.o(("url", .string(url)), ("extension", J.a(parts)))
    }

    /// The journal entries held by `resource` (as `type/id` in `source`). Malformed entries throw:
    /// a ledger that cannot be read back must not be settled.
    public static func entries(in resource: JSON, source: String) throws -> [JournalEntry] {
        try (resource["extension"]?.arrayValue ?? []).filter { $0["url"]?.stringValue == url }.map { ext in
            let parts = ext["extension"]?.arrayValue ?? []
            func value(_ name: String, _ key: String) -> String? { parts.first { $0["url"]?.stringValue == name }?[key]?.stringValue }
            guard let id = value("id", "valueString"), let kind = value("kind", "valueCode").flatMap(JournalEntry.Kind.init(rawValue:)),
                  let period = value("period", "valueString").flatMap(Period.init), let date = value("date", "valueDate") else {
                throw FHIRError(status: 500, code: "exception", english: "\(source) holds a malformed journal entry",
                                spanish: "\(source) contiene un asiento contable mal formado")
            }
            let postings = try parts.filter { $0["url"]?.stringValue == "posting" }.map { p -> Posting in
                let sub = p["extension"]?.arrayValue ?? []
                guard let a = sub.first(where: { $0["url"]?.stringValue == "account" })?["valueString"]?.stringValue.flatMap(Account.init) else {
                    throw FHIRError(status: 500, code: "exception", english: "\(source): a posting has no account", spanish: "\(source): un movimiento no tiene cuenta")
                }
                let m = try Money(json: sub.first(where: { $0["url"]?.stringValue == "amount" })?["valueMoney"], path: "\(source).extension")
                return Posting(a, m)
            }
            return JournalEntry(id: id, kind: kind, period: period, date: date, source: source, postings: postings,
                                reverses: value("reverses", "valueString"))
        }
    }
}
