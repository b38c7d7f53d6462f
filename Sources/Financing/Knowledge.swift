import FHIR

/// A tariff table: the price of each service code (docs/financing.md, "Data sources").
public struct Tariff: Sendable {
    public struct Item: Sendable, Hashable {
        public var code: String
        public var display: String
        public var level: Int
        public var price: Money
        public var kind: String
    }

    public var id: String
    public var version: String
    /// The code system of the service codes (`Claim.item.productOrService.coding.system`).
    public var system: String
    public var title: String
    public var items: [String: Item]

    /// `tabulador-intercambio|2026.1`: what a Provenance names.
    public var canonical: String { "https://enlace.mx/fhir/tariff/\(id)|\(version)" }

    /// Parses a tariff JSON (`TabuladorIntercambio2026.json`). Throws on a malformed file.
    public init(json: JSON) throws {
        func s(_ k: String) throws -> String {
            guard let v = json[k]?.stringValue else { throw FHIRError.badRequest("tariff: \(k) missing", "tabulador: falta \(k)") }
            return v
        }
        id = try s("id"); version = try s("version"); system = try s("system"); title = try s("title")
        var items: [String: Item] = [:]
        for i in json["items"]?.arrayValue ?? [] {
            guard let code = i["code"]?.stringValue, let price = i["price"]?.stringValue.flatMap(Money.init(decimal:)) else {
                throw FHIRError.badRequest("tariff: an item has no code or price", "tabulador: un concepto no tiene código o precio")
            }
            var level = 1
            if case .number(let n)? = i["level"] { level = Int(n) ?? 1 }
            items[code] = Item(code: code, display: i["display"]?.stringValue ?? code, level: level, price: price, kind: i["kind"]?.stringValue ?? "")
        }
        self.items = items
    }

    /// Parses the text of a tariff file named `name`: a file that is not JSON, or not a tariff,
    /// throws a `KnowledgeError` saying which file and what is wrong (never a crash).
    public static func load(_ text: String, name: String) throws -> Tariff {
        let json: JSON
        do { json = try JSONParser.parse(text) } catch { throw KnowledgeError(file: name, problem: "not valid JSON (\(error))", problema: "no es JSON válido (\(error))") }
        do { return try Tariff(json: json) } catch let e as FHIRError {
            throw KnowledgeError(file: name, problem: e.issues.map(\.english).joined(separator: "; "), problema: e.issues.map(\.spanish).joined(separator: "; "))
        }
    }

    /// The shipped tariff as loaded (checked once): the tariff, or what is wrong with its file.
    public static let shipped: Result<Tariff, KnowledgeError> = Result { try load(TabuladorIntercambio2026.json, name: "TabuladorIntercambio2026") }
        .mapError { $0 as? KnowledgeError ?? KnowledgeError(file: "TabuladorIntercambio2026", problem: "\($0)", problema: "\($0)") }

    /// The sample *tabulador de intercambio* 2026.1 shipped with Enlace. Should its file be
    /// broken, an empty tariff (every service refused as not in the tariff) — and
    /// `FinancingKnowledge.check()`, which every financing operation calls first, reports the
    /// broken file as a clear error.
    public static let intercambio2026: Tariff = (try? shipped.get()) ?? Tariff(empty: "tabulador-intercambio")

    init(empty id: String) {
        self.id = id
        version = "unavailable"
        system = "https://enlace.mx/fhir/CodeSystem/\(id)"
        title = id
        items = [:]
    }
}

/// A knowledge file of the Financing module (tariff, plans, measures) that could not be loaded.
public struct KnowledgeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var problem: String
    public var problema: String
    public init(file: String, problem: String, problema: String) {
        self.file = file
        self.problem = problem
        self.problema = problema
    }

    public var description: String { "financing knowledge file \(file) is broken: \(problem)" }

    /// A 500 OperationOutcome naming the file (an operator's problem, not the client's).
    public var fhirError: FHIRError {
        FHIRError(status: 500, code: "exception", english: description, spanish: "el archivo de conocimiento de financiamiento \(file) está dañado: \(problema)")
    }
}

/// The Financing module's knowledge, checked: what every operation calls before using it.
public enum FinancingKnowledge {
    /// The shipped files parsed: throws the first broken one as a 500 OperationOutcome.
    public static func check() throws {
        if case .failure(let e) = Tariff.shipped { throw e.fhirError }
        if case .failure(let e) = BenefitPlan.shippedSamples { throw e.fhirError }
        if case .failure(let e) = MeasureEvaluator.shippedMeasures { throw e.fhirError }
    }

    /// Parses a JSON array knowledge file (plans, measures), each element a resource of `type` with an id.
    public static func loadResources(_ text: String, name: String, type: String) throws -> [JSON] {
        let json: JSON
        do { json = try JSONParser.parse(text) } catch { throw KnowledgeError(file: name, problem: "not valid JSON (\(error))", problema: "no es JSON válido (\(error))") }
        guard let items = json.arrayValue else { throw KnowledgeError(file: name, problem: "not a JSON array", problema: "no es un arreglo JSON") }
        for (i, r) in items.enumerated() where r["resourceType"]?.stringValue != type || r["id"]?.stringValue == nil {
            throw KnowledgeError(file: name, problem: "item \(i) is not a \(type) with an id", problema: "el elemento \(i) no es un \(type) con id")
        }
        return items
    }
}

/// The rules of a benefit plan, read from its FHIR InsurancePlan: which services it covers, the
/// annual deductible, the coinsurance and the copay per item.
public struct BenefitPlan: Sendable {
    public var id: String
    public var version: String
    public var name: String
    /// `Organization/…` (InsurancePlan.ownedBy).
    public var payer: String
    /// nil: every service of the tariff.
    public var covered: Set<String>?
    public var deductible: Money
    /// Coinsurance in basis points (1,000 = 10 %).
    public var coinsuranceBasisPoints: Int
    public var copay: Money

    public static let costTypes = "https://enlace.mx/fhir/CodeSystem/cost-type"
    public static let versionExtension = "https://enlace.mx/fhir/StructureDefinition/rule-version"

    /// The canonical of the rule set a Provenance names (`…/InsurancePlan/vida-plena-gmm-basico|2026.1`).
    public var canonical: String { "https://enlace.mx/fhir/InsurancePlan/\(id)|\(version)" }

    public init(id: String, version: String, name: String, payer: String, covered: Set<String>?, deductible: Money, coinsuranceBasisPoints: Int, copay: Money) {
        self.id = id
        self.version = version
        self.name = name
        self.payer = payer
        self.covered = covered
        self.deductible = deductible
        self.coinsuranceBasisPoints = coinsuranceBasisPoints
        self.copay = copay
    }

    /// Reads an InsurancePlan. Throws a 422 when it is not one Enlace can adjudicate with.
    public init(insurancePlan p: JSON) throws {
        guard p["resourceType"]?.stringValue == "InsurancePlan", let id = p["id"]?.stringValue,
              let payer = p["ownedBy"]?["reference"]?.stringValue else {
            throw FHIRError(status: 422, code: "business-rule", english: "the InsurancePlan has no id or ownedBy",
                            spanish: "el InsurancePlan no tiene id u ownedBy")
        }
        self.id = id
        self.payer = payer
        name = p["name"]?.stringValue ?? id
        version = (p["extension"]?.arrayValue ?? []).first { $0["url"]?.stringValue == BenefitPlan.versionExtension }?["valueString"]?.stringValue ?? "1"
        var codes: Set<String> = []
        var all = false
        for c in p["coverage"]?.arrayValue ?? [] {
            for b in c["benefit"]?.arrayValue ?? [] {
                for coding in b["type"]?["coding"]?.arrayValue ?? [] {
                    if coding["code"]?.stringValue == "all", coding["system"]?.stringValue == "https://enlace.mx/fhir/CodeSystem/benefit-scope" { all = true }
                    else if let code = coding["code"]?.stringValue { codes.insert(code) }
                }
            }
        }
        covered = all ? nil : codes
        func costType(_ j: JSON?) -> String? {
            (j?["coding"]?.arrayValue ?? []).first { $0["system"]?.stringValue == BenefitPlan.costTypes }?["code"]?.stringValue
        }
        var deductible = Money.zero, coinsurance = 0, copay = Money.zero
        for plan in p["plan"]?.arrayValue?.prefix(1) ?? [] {
            for g in plan["generalCost"]?.arrayValue ?? [] where costType(g["type"]) == "deductible" {
                deductible = try Money(json: g["cost"], path: "InsurancePlan.plan.generalCost.cost")
            }
            for sc in plan["specificCost"]?.arrayValue ?? [] {
                for b in sc["benefit"]?.arrayValue ?? [] {
                    for cost in b["cost"]?.arrayValue ?? [] {
                        guard case .number(let v)? = cost["value"]?["value"] else { continue }
                        switch costType(cost["type"]) {
                        case "coinsurance":
                            guard let m = Money(decimal: v) else { continue }
                            coinsurance = Int(m.centavos)  // percent with two decimals = basis points
                        case "copay":
                            copay = Money(decimal: v) ?? .zero
                        default: continue
                        }
                    }
                }
            }
        }
        self.deductible = deductible
        coinsuranceBasisPoints = coinsurance
        self.copay = copay
    }

    /// The sample plans shipped with Enlace (IMSS, ISSSTE, IMSS-Bienestar, a private policy), as FHIR InsurancePlans.
    public static let samples: [JSON] = (try? shippedSamples.get()) ?? []
    static let shippedSamples: Result<[JSON], KnowledgeError> = Result {
        try FinancingKnowledge.loadResources(SamplePlans2026.json, name: "SamplePlans2026", type: "InsurancePlan")
    }.mapError { $0 as? KnowledgeError ?? KnowledgeError(file: "SamplePlans2026", problem: "\($0)", problema: "\($0)") }
}
