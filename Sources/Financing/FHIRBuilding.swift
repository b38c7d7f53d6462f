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
        var out: [JournalEntry] = []
        for ext in resource["extension"]?.arrayValue ?? [] where ext["url"]?.stringValue == url {
            out.append(try entry(ext, source: source))
        }
        return out
    }

    static func entry(_ ext: JSON, source: String) throws -> JournalEntry {
        let parts: [JSON] = ext["extension"]?.arrayValue ?? []
        func value(_ name: String, _ key: String) -> String? {
            for p in parts where p["url"]?.stringValue == name { return p[key]?.stringValue }
            return nil
        }
        guard let id = value("id", "valueString"), let kindText = value("kind", "valueCode"), let kind = JournalEntry.Kind(rawValue: kindText),
              let periodText = value("period", "valueString"), let period = Period(periodText), let date = value("date", "valueDate") else {
            throw FHIRError(status: 500, code: "exception", english: "\(source) holds a malformed journal entry",
                            spanish: "\(source) contiene un asiento contable mal formado")
        }
        var postings: [Posting] = []
        for p in parts where p["url"]?.stringValue == "posting" {
            let sub: [JSON] = p["extension"]?.arrayValue ?? []
            var account: Account?
            var amount: JSON?
            for x in sub {
                if x["url"]?.stringValue == "account", let a = x["valueString"]?.stringValue { account = Account(a) }
                if x["url"]?.stringValue == "amount" { amount = x["valueMoney"] }
            }
            guard let account else {
                throw FHIRError(status: 500, code: "exception", english: "\(source): a posting has no account", spanish: "\(source): un movimiento no tiene cuenta")
            }
            postings.append(Posting(account, try Money(json: amount, path: "\(source).extension")))
        }
        return JournalEntry(id: id, kind: kind, period: period, date: date, source: source, postings: postings, reverses: value("reverses", "valueString"))
    }
}
