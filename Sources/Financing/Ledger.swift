import FHIR

/// A settlement period: a calendar quarter (`2026-Q3`), the unit of the *Intercambio de
/// servicios* settlements (docs/financing.md).
public struct Period: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    /// 1…4
    public var quarter: Int

    public init(year: Int, quarter: Int) {
        self.year = year
        self.quarter = quarter
    }

    /// `2026-Q3`; nil for anything else.
    public init?(_ text: String) {
        let p = text.split(separator: "-")
        guard p.count == 2, p[0].count == 4, let y = Int(p[0]), p[1].count == 2, p[1].first == "Q", let q = Int(p[1].dropFirst()), (1...4).contains(q)
        else { return nil }
        self.init(year: y, quarter: q)
    }

    /// The quarter holding a FHIR date or dateTime (`2026-08-14`, `2026-08-14T10:00:00Z`); nil if it is not one.
    public init?(date: String) {
        let p = date.prefix(10).split(separator: "-")
        guard p.count >= 2, p[0].count == 4, let y = Int(p[0]), let m = Int(p[1]), (1...12).contains(m) else { return nil }
        self.init(year: y, quarter: (m - 1) / 3 + 1)
    }

    public var description: String { "\(year)-Q\(quarter)" }
    public var next: Period { quarter == 4 ? Period(year: year + 1, quarter: 1) : Period(year: year, quarter: quarter + 1) }
    /// First and last day, `2026-07-01` … `2026-09-30`.
    public var start: String { "\(year)-" + ["01", "04", "07", "10"][quarter - 1] + "-01" }
    public var end: String { "\(year)-" + ["03-31", "06-30", "09-30", "12-31"][quarter - 1] }
    public func contains(date: String) -> Bool { Period(date: date) == self }

    public static func < (a: Period, b: Period) -> Bool { (a.year, a.quarter) < (b.year, b.quarter) }
}

/// An account of the double-entry ledger: whose books it is in (`holder`), what it is, and —
/// for what is owed — with whom.
public struct Account: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// What `counterparty` owes the holder (an asset: a debit balance).
        case receivable
        /// What the holder owes `counterparty` (a liability: a credit balance).
        case payable
        /// Services given (credit balance).
        case revenue
        /// Services received or paid for (debit balance).
        case expense
        /// Money actually moved.
        case cash
    }

    public var kind: Kind
    /// `Organization/imss`, `Patient/demo-p001`.
    public var holder: String
    public var counterparty: String?

    public init(_ kind: Kind, _ holder: String, _ counterparty: String? = nil) {
        self.kind = kind
        self.holder = holder
        self.counterparty = counterparty
    }

    public static func receivable(_ holder: String, from debtor: String) -> Account { Account(.receivable, holder, debtor) }
    public static func payable(_ holder: String, to creditor: String) -> Account { Account(.payable, holder, creditor) }
    public static func revenue(_ holder: String) -> Account { Account(.revenue, holder) }
    public static func expense(_ holder: String) -> Account { Account(.expense, holder) }
    public static func cash(_ holder: String) -> Account { Account(.cash, holder) }

    /// `receivable|Organization/a|Organization/b`, `revenue|Organization/a`.
    public var description: String { [kind.rawValue, holder].joined(separator: "|") + (counterparty.map { "|" + $0 } ?? "") }

    public init?(_ text: String) {
        let p = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(p.count), let k = Kind(rawValue: p[0]), !p[1].isEmpty else { return nil }
        let needsCounterparty = k == .receivable || k == .payable
        guard needsCounterparty == (p.count == 3), p.count == 2 || !p[2].isEmpty else { return nil }
        self.init(k, p[1], p.count == 3 ? p[2] : nil)
    }

    public static func < (a: Account, b: Account) -> Bool { a.description < b.description }
}

/// One line of a journal entry: a debit (positive) or a credit (negative) to an account.
public struct Posting: Sendable, Hashable {
    public var account: Account
    public var amount: Money
    public init(_ account: Account, _ amount: Money) {
        self.account = account
        self.amount = amount
    }
}

/// A movement of the ledger: balanced postings, dated, in a period, from a source resource.
public struct JournalEntry: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        /// An adjudicated claim: the payer and the patient owe the provider.
        case claim
        /// Undoes an earlier entry (a corrected claim), posted in the current open period.
        case reversal
        /// Money paid against what is owed.
        case payment
        /// The netting of a period between two institutions.
        case settlement
        /// An accepted dispute: part of what a payer owed for a claim taken back, posted in the
        /// first open period after the claim's (never in a settled one).
        case correction
        /// A quality incentive: what a payer's contract owes a provider for a period whose
        /// target was met (`IncentiveContract`), posted in that period before it is settled.
        case incentive
    }

    /// Unique in the ledger; posting an id twice is refused (`Ledger.post`), so nothing is counted twice.
    public var id: String
    public var kind: Kind
    /// The period the entry counts in (after `Ledger.post`: never a settled one).
    public var period: Period
    /// The service or payment date (`2026-08-14`).
    public var date: String
    /// The resource the entry belongs to (`ClaimResponse/…`, `PaymentReconciliation/…`).
    public var source: String
    public var postings: [Posting]
    /// For a reversal: the entry it undoes.
    public var reverses: String?

    public init(id: String, kind: Kind, period: Period, date: String, source: String, postings: [Posting], reverses: String? = nil) {
        self.id = id
        self.kind = kind
        self.period = period
        self.date = date
        self.source = source
        self.postings = postings
        self.reverses = reverses
    }

    /// Debits equal credits, in the entry as a whole and in each holder's books.
    public var isBalanced: Bool {
        guard postings.map(\.amount).sum() == .zero else { return false }
        var byHolder: [String: Money] = [:]
        for p in postings { byHolder[p.account.holder, default: .zero] += p.amount }
        return byHolder.values.allSatisfy { $0 == .zero }
    }

    /// The entry that undoes this one (every posting negated), with id `<id>~r<n>`.
    public func reversal(id: String, period: Period, date: String, source: String) -> JournalEntry {
        JournalEntry(id: id, kind: .reversal, period: period, date: date, source: source,
                     postings: postings.map { Posting($0.account, -$0.amount) }, reverses: self.id)
    }

    /// The postings of a claim adjudicated for `allowed` in total, `payerShare` owed by `payer`
    /// and `patientShare` owed by `patient` to `provider` (each in its holder's books).
    public static func claim(id: String, period: Period, date: String, source: String, provider: String, payer: String, patient: String,
                             payerShare: Money, patientShare: Money) -> JournalEntry {
        var p: [Posting] = []
        if payerShare != .zero {
            p += [Posting(.receivable(provider, from: payer), payerShare), Posting(.expense(payer), payerShare),
                  Posting(.payable(payer, to: provider), -payerShare)]
        }
        if patientShare != .zero {
            p += [Posting(.receivable(provider, from: patient), patientShare), Posting(.expense(patient), patientShare),
                  Posting(.payable(patient, to: provider), -patientShare)]
        }
        let total = payerShare + patientShare
        if total != .zero { p.append(Posting(.revenue(provider), -total)) }
        // keep each holder's postings together: provider first
        p.sort { ($0.account.holder == provider ? 0 : 1, $0.account) < ($1.account.holder == provider ? 0 : 1, $1.account) }
        return JournalEntry(id: id, kind: .claim, period: period, date: date, source: source, postings: p)
    }

    /// The correction of an accepted dispute: `payer` owes `provider` `amount` less (a credit note).
    public static func correction(id: String, period: Period, date: String, source: String, provider: String, payer: String, amount: Money,
                                  corrects: String) -> JournalEntry {
        JournalEntry(id: id, kind: .correction, period: period, date: date, source: source, postings: [
            Posting(.receivable(provider, from: payer), -amount), Posting(.revenue(provider), amount),
            Posting(.expense(payer), -amount), Posting(.payable(payer, to: provider), amount),
        ], reverses: corrects)
    }

    /// A quality incentive: `payer` owes `payee` `amount` (revenue of the payee, expense of the
    /// payer), netted in the period's settlement like a claim. Undone by `reversal`.
    public static func incentive(id: String, period: Period, date: String, source: String, payer: String, payee: String, amount: Money) -> JournalEntry {
        JournalEntry(id: id, kind: .incentive, period: period, date: date, source: source, postings: [
            Posting(.receivable(payee, from: payer), amount), Posting(.revenue(payee), -amount),
            Posting(.expense(payer), amount), Posting(.payable(payer, to: payee), -amount),
        ])
    }

    /// `payer` pays `provider` `amount`.
    public static func payment(id: String, period: Period, date: String, source: String, payer: String, provider: String, amount: Money) -> JournalEntry {
        JournalEntry(id: id, kind: .payment, period: period, date: date, source: source, postings: [
            Posting(.cash(provider), amount), Posting(.receivable(provider, from: payer), -amount),
            Posting(.payable(payer, to: provider), amount), Posting(.cash(payer), -amount),
        ])
    }
}

/// What a period's settlement between two institutions came to.
public struct PairSettlement: Sendable, Hashable {
    /// The pair in a fixed order (`a < b`).
    public var a: String
    public var b: String
    /// What `b` owed `a` for the period (services `a` gave `b`'s beneficiaries, less payments).
    public var owedToA: Money
    /// What `a` owed `b`.
    public var owedToB: Money
    /// `owedToA - owedToB`: positive, `b` pays `a`; negative, `a` pays `b`.
    public var net: Money { owedToA - owedToB }
    /// Who pays the net and who receives it (nil when it nets to zero).
    public var payer: String? { net == .zero ? nil : (net > .zero ? b : a) }
    public var payee: String? { net == .zero ? nil : (net > .zero ? a : b) }
    public init(a: String, b: String, owedToA: Money, owedToB: Money) {
        self.a = a
        self.b = b
        self.owedToA = owedToA
        self.owedToB = owedToB
    }
}

/// Why the ledger refused an entry.
public enum LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    case unbalanced(String)
    case duplicate(String)
    case alreadySettled(Period)
    case unknownEntry(String)
    case invalidCorrection(String)

    public var description: String {
        switch self {
        case let .unbalanced(id): return "journal entry \(id) is not balanced"
        case let .duplicate(id): return "journal entry \(id) is already in the ledger"
        case let .alreadySettled(p): return "period \(p) is already settled"
        case let .unknownEntry(id): return "no journal entry \(id)"
        case let .invalidCorrection(why): return "invalid correction: \(why)"
        }
    }

    public var fhirError: FHIRError {
        switch self {
        case let .unbalanced(id):
            return FHIRError(status: 422, code: "invariant", english: description, spanish: "el asiento \(id) no está balanceado")
        case let .duplicate(id):
            return FHIRError(status: 409, code: "duplicate", english: description, spanish: "el asiento \(id) ya está en el libro")
        case let .alreadySettled(p):
            return FHIRError(status: 409, code: "business-rule", english: description, spanish: "el periodo \(p) ya está liquidado")
        case let .unknownEntry(id):
            return FHIRError(status: 404, code: "not-found", english: description, spanish: "no existe el asiento \(id)")
        case .invalidCorrection:
            return FHIRError(status: 422, code: "business-rule", english: description,
                             spanish: "corrección inválida: solo se corrige un asiento de reclamación, por un importe positivo no mayor que lo que el pagador aún debe por él")
        }
    }
}

/// The double-entry ledger under claims, payments and settlements (docs/financing.md,
/// "Ledger invariants"):
///
/// 1. every entry is balanced, as a whole and in each holder's books (`post` refuses others);
/// 2. a balance is the sum of the postings to the account (kept incrementally and checked
///    against a recount by `violations()`);
/// 3. an entry id is posted once (a retried claim is not counted twice);
/// 4. a settled period is immutable: an entry dated in it is posted in the first open period
///    after it (a correction goes into the next period), and its settlement is reproducible
///    from its entries at any time (`statement(for:)`).
public struct Ledger: Sendable {
    public private(set) var entries: [JournalEntry] = []
    public private(set) var settled: Set<Period> = []
    private var ids: [String: Int] = [:]
    private var balances: [Account: Money] = [:]
    private var periodBalances: [Period: [Account: Money]] = [:]

    public init() {}

    /// Rebuilds a ledger from stored entries (as read back from the resources that hold them).
    /// Settlement entries mark their period settled. Throws what `post` throws.
    public init(replaying stored: [JournalEntry]) throws {
        for e in stored.sorted(by: { ($0.period, $0.kind == .settlement ? 1 : 0, $0.id) < ($1.period, $1.kind == .settlement ? 1 : 0, $1.id) }) {
            try append(e)
            if e.kind == .settlement { settled.insert(e.period) }
        }
    }

    /// The first period at or after `p` that is not settled.
    public func openPeriod(from p: Period) -> Period {
        var q = p
        while settled.contains(q) { q = q.next }
        return q
    }

    public func entry(_ id: String) -> JournalEntry? { ids[id].map { entries[$0] } }

    /// Posts `entry` in its period, or — if that period is settled — in the first open one after
    /// it. Returns the entry as posted. Throws `unbalanced` or `duplicate`; nothing is posted then.
    @discardableResult
    public mutating func post(_ entry: JournalEntry) throws -> JournalEntry {
        var e = entry
        e.period = openPeriod(from: entry.period)
        try append(e)
        return e
    }

    private mutating func append(_ e: JournalEntry) throws {
        guard e.isBalanced else { throw LedgerError.unbalanced(e.id) }
        guard ids[e.id] == nil else { throw LedgerError.duplicate(e.id) }
        ids[e.id] = entries.count
        entries.append(e)
        for p in e.postings {
            balances[p.account, default: .zero] += p.amount
            periodBalances[e.period, default: [:]][p.account, default: .zero] += p.amount
        }
    }

    /// Posts the reversal of entry `id` (a correction), in the open period from `period`.
    @discardableResult
    public mutating func reverse(_ id: String, reversalID: String, period: Period, date: String, source: String) throws -> JournalEntry {
        guard let original = entry(id) else { throw LedgerError.unknownEntry(id) }
        return try post(original.reversal(id: reversalID, period: period, date: date, source: source))
    }

    /// What `payer` still owes for claim `id` after earlier corrections of it.
    public func correctable(_ id: String) -> Money {
        guard let e = entry(id), e.kind == .claim,
              let owed = e.postings.first(where: { $0.account.kind == .receivable && Ledger.isInstitution($0.account.counterparty ?? "") }) else { return .zero }
        let taken = entries.filter { $0.kind == .correction && $0.reverses == id }
            .flatMap(\.postings).filter { $0.account == owed.account }.map(\.amount).sum()
        return owed.amount + taken
    }

    /// Posts the correction of an accepted dispute of claim `id`: `amount` less owed by its
    /// institution payer, in the first open period after the claim's (a settled period never
    /// changes). Throws `unknownEntry`, or `invalidCorrection` for an amount that is not
    /// positive or is more than what is still owed for the claim.
    @discardableResult
    public mutating func correct(_ id: String, correctionID: String, amount: Money, date: String, source: String) throws -> JournalEntry {
        guard let original = entry(id) else { throw LedgerError.unknownEntry(id) }
        guard original.kind == .claim,
              let owed = original.postings.first(where: { $0.account.kind == .receivable && Ledger.isInstitution($0.account.counterparty ?? "") }) else {
            throw LedgerError.invalidCorrection("\(id) is not a claim owed by an institution")
        }
        guard !entries.contains(where: { $0.kind == .reversal && $0.reverses == id }) else {
            throw LedgerError.invalidCorrection("\(id) was reversed")
        }
        guard amount > .zero, amount <= correctable(id) else {
            throw LedgerError.invalidCorrection("\(amount.decimal) is not in (0, \(correctable(id).decimal)] for \(id)")
        }
        return try post(.correction(id: correctionID, period: openPeriod(from: original.period.next), date: date, source: source,
                                    provider: owed.account.holder, payer: owed.account.counterparty!, amount: amount, corrects: id))
    }

    /// The balance of `account` over every period, or only `period`'s entries.
    public func balance(_ account: Account, in period: Period? = nil) -> Money {
        if let period { return periodBalances[period]?[account] ?? .zero }
        return balances[account] ?? .zero
    }

    /// Every account with its balance (non-zero ones).
    public var allBalances: [Account: Money] { balances.filter { $0.value != .zero } }

    /// Is this an institution (an Organization), as opposed to a patient?
    static func isInstitution(_ r: String) -> Bool { r.hasPrefix("Organization/") }

    /// The settlement `period` would have between each pair of institutions, from its entries
    /// (settlement entries excluded): reproducible at any time, before or after settling.
    public func statement(for period: Period) -> [PairSettlement] {
        var owed: [String: [String: Money]] = [:]  // owed[creditor][debtor]
        for e in entries where e.period == period && e.kind != .settlement {
            for p in e.postings where p.account.kind == .receivable {
                // an institution serving its own beneficiaries owes itself nothing to settle
                guard let debtor = p.account.counterparty, debtor != p.account.holder, Ledger.isInstitution(p.account.holder), Ledger.isInstitution(debtor)
                else { continue }
                owed[p.account.holder, default: [:]][debtor, default: .zero] += p.amount
            }
        }
        var pairs: Set<[String]> = []
        for (c, ds) in owed { for d in ds.keys { pairs.insert([c, d].sorted()) } }
        return pairs.sorted { $0.lexicographicallyPrecedes($1) }.map { pair in
            PairSettlement(a: pair[0], b: pair[1], owedToA: owed[pair[0]]?[pair[1]] ?? .zero, owedToB: owed[pair[1]]?[pair[0]] ?? .zero)
        }.filter { $0.owedToA != .zero || $0.owedToB != .zero }
    }

    /// The settlement entry of one pair: clears both receivables and payables of the period and
    /// moves the net in cash.
    public static func settlementEntry(_ s: PairSettlement, period: Period, source: String) -> JournalEntry {
        let x = s.owedToA, y = s.owedToB, n = s.net
        let raw = [
            Posting(.receivable(s.a, from: s.b), -x), Posting(.payable(s.a, to: s.b), y), Posting(.cash(s.a), n),
            Posting(.receivable(s.b, from: s.a), -y), Posting(.payable(s.b, to: s.a), x), Posting(.cash(s.b), -n),
        ]
        return JournalEntry(id: "settlement:\(period):\(s.a):\(s.b)", kind: .settlement, period: period, date: period.end, source: source,
                            postings: raw.filter { $0.amount != .zero })
    }

    /// Settles `period` between every pair of institutions: posts one settlement entry per pair
    /// (in `period` itself) and closes the period. Returns the statement. Throws
    /// `alreadySettled` for a settled period.
    @discardableResult
    public mutating func settle(_ period: Period, source: (PairSettlement) -> String = { _ in "" }) throws -> [PairSettlement] {
        guard !settled.contains(period) else { throw LedgerError.alreadySettled(period) }
        let statement = statement(for: period)
        for s in statement { try append(Ledger.settlementEntry(s, period: period, source: source(s))) }
        settled.insert(period)
        return statement
    }

    /// Every invariant that does not hold (empty: the ledger is sound): balanced entries, unique
    /// ids, balances equal to a recount of the postings, receivables mirrored by payables, and
    /// each settled period's institution receivables cleared by settlement entries equal to its
    /// statement.
    public func violations() -> [String] {
        var out: [String] = []
        var recount: [Account: Money] = [:]
        var seen: Set<String> = []
        for e in entries {
            if !e.isBalanced { out.append("unbalanced \(e.id)") }
            if !seen.insert(e.id).inserted { out.append("duplicate \(e.id)") }
            for p in e.postings { recount[p.account, default: .zero] += p.amount }
        }
        for (a, m) in recount where balance(a) != m { out.append("balance of \(a) is \(balance(a)), postings sum to \(m)") }
        for (a, m) in balances where recount[a] == nil && m != .zero { out.append("balance of \(a) without postings") }
        for (a, m) in recount where a.kind == .receivable {
            let mirror = Account.payable(a.counterparty!, to: a.holder)
            if (recount[mirror] ?? .zero) != -m { out.append("\(a) is \(m) but \(mirror) is \(recount[mirror] ?? .zero)") }
        }
        for p in settled {
            let expected = Set(statement(for: p).map { Ledger.settlementEntry($0, period: p, source: "") })
            let actual = Set(entries.filter { $0.period == p && $0.kind == .settlement }.map { var e = $0; e.source = ""; return e })
            if expected != actual { out.append("the settlement of \(p) differs from its statement") }
            for (a, m) in periodBalances[p] ?? [:] where a.kind == .receivable && m != .zero {
                if Ledger.isInstitution(a.holder), let c = a.counterparty, c != a.holder, Ledger.isInstitution(c) { out.append("\(a) is \(m) after settling \(p)") }
            }
        }
        return out
    }
}
