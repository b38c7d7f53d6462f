import FHIR
import Foundation
import Storage
import Trust

/// `Observation/$stats` (https://hl7.org/fhir/R4/observation-operation-stats.html): statistics of
/// one subject's Observations with a UCUM quantity, per code, over a period, read through the
/// caller's guard (hidden Observations are neither counted nor summed). Returns a `Parameters`
/// with one `statistics` Observation per code — one `component` per statistic, its code from
/// http://terminology.hl7.org/CodeSystem/observation-statistics — and, with `include=true`, the
/// `source` Observations.
public enum ObservationStats {
    public static let statisticSystem = "http://terminology.hl7.org/CodeSystem/observation-statistics"
    /// The StatisticsCode values computed (all of R4's but `regression`).
    public static let supported = ["average", "maximum", "minimum", "count", "totalcount", "median", "std-dev", "sum", "variance",
                                   "20-percent", "80-percent", "4-lower", "4-upper", "4-dev", "5-1", "5-2", "5-3", "5-4", "skew", "kurtosis"]

    /// The operation's input (GET parameters or a `Parameters` body).
    public struct Request: Sendable {
        /// The patient id of `subject`.
        public var patient: String
        /// `system|code` tokens; the system may be empty (any system).
        public var codes: [(system: String, code: String)]
        public var start: Timestamp?
        public var end: Timestamp?
        public var statistics: [String]
        public var include = false
        public var limit: Int?
    }

    /// Parses the R4 input parameters: `subject` (or `patient`), `code` (repeated or
    /// comma-separated) with `system`, `coding` (`system|code`), `duration` (hours back from now)
    /// or `period` (`start/end`, either side may be empty; or `period.start`/`period.end`),
    /// `statistic` (repeated or comma-separated), `include`, `limit`.
    /// - Throws: 400 OperationOutcome naming the parameter at fault.
    public static func parse(_ parameters: [(String, String)], now: Timestamp) throws -> Request {
        var patient: String?
        var codes: [String] = []
        var system: String?
        var codings: [(String, String)] = []
        var duration: Double?
        var start: Timestamp?, end: Timestamp?
        var statistics: [String] = []
        var include = false
        var limit: Int?
        func instant(_ v: String, _ name: String, end: Bool) throws -> Timestamp? {
            if v.isEmpty { return nil }
            if let t = Timestamp(instant: v) { return t }
            if let r = DateRange(v) { return Timestamp(microseconds: end ? r.high * 1000 + 999 : r.low * 1000) }
            throw FHIRError.badRequest("\(name) '\(v)' is not a date or date-time", "\(name) '\(v)' no es una fecha ni fecha-hora")
        }
        for (k, v) in parameters {
            switch k {
            case "subject", "patient":
                let id = v.hasPrefix("Patient/") ? String(v.dropFirst("Patient/".count)) : v
                guard !id.isEmpty, !id.contains("/") else {
                    throw FHIRError.badRequest("$stats: subject must be Patient/<id>", "$stats: subject debe ser Patient/<id>")
                }
                patient = id
            case "code": codes += v.split(separator: ",").map { String($0) }
            case "system": system = v
            case "coding":
                for c in v.split(separator: ",") {
                    let parts = c.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                    if parts.count == 2 { codings.append((parts[0], parts[1])) } else { codings.append(("", parts[0])) }
                }
            case "duration":
                guard let d = Double(v), d > 0, d.isFinite else {
                    throw FHIRError.badRequest("$stats: duration is a positive number of hours", "$stats: duration es un número positivo de horas")
                }
                duration = d
            case "period":
                let parts = v.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2 else {
                    throw FHIRError.badRequest("$stats: period is start/end (e.g. 2026-01-01/2026-02-01)",
                                               "$stats: period es inicio/fin (p. ej. 2026-01-01/2026-02-01)")
                }
                start = try instant(parts[0], "period start", end: false)
                end = try instant(parts[1], "period end", end: true)
            case "period.start": start = try instant(v, "period.start", end: false)
            case "period.end": end = try instant(v, "period.end", end: true)
            case "statistic":
                for s in v.split(separator: ",").map(String.init) {
                    guard supported.contains(s) else {
                        let english = s == "regression" ? "the statistic 'regression' is not supported" : "unknown statistic '\(s)'"
                        let spanish = s == "regression" ? "la estadística 'regression' no se admite" : "estadística desconocida '\(s)'"
                        throw FHIRError(status: 400, code: s == "regression" ? "not-supported" : "code-invalid",
                                        english: "\(english); supported: \(supported.joined(separator: ", "))",
                                        spanish: "\(spanish); se admiten: \(supported.joined(separator: ", "))")
                    }
                    if !statistics.contains(s) { statistics.append(s) }
                }
            case "include":
                guard v == "true" || v == "false" else {
                    throw FHIRError.badRequest("$stats: include is true or false", "$stats: include es true o false")
                }
                include = v == "true"
            case "limit":
                guard let n = Int(v), n >= 1 else {
                    throw FHIRError.badRequest("$stats: limit is a positive integer", "$stats: limit es un entero positivo")
                }
                limit = n
            case "_format", "_pretty":
                break
            default:
                throw FHIRError(status: 400, code: "not-supported", english: "unknown $stats parameter '\(k)'", spanish: "parámetro desconocido de $stats '\(k)'")
            }
        }
        guard let patient else {
            throw FHIRError(status: 400, code: "required", english: "$stats needs a subject (subject=Patient/<id>)", spanish: "$stats necesita un sujeto (subject=Patient/<id>)")
        }
        let all = codes.map { (system ?? "", $0) } + codings
        guard !all.isEmpty else {
            throw FHIRError(status: 400, code: "required", english: "$stats needs a code (code= with system=, or coding=system|code)",
                            spanish: "$stats necesita un código (code= con system=, o coding=sistema|código)")
        }
        guard !statistics.isEmpty else {
            throw FHIRError(status: 400, code: "required", english: "$stats needs at least one statistic (e.g. statistic=average,maximum)",
                            spanish: "$stats necesita al menos una estadística (p. ej. statistic=average,maximum)")
        }
        if let duration {
            guard start == nil && end == nil else {
                throw FHIRError.badRequest("$stats takes duration or period, not both", "$stats recibe duration o period, no ambos")
            }
            end = now
            start = Timestamp(microseconds: now.microseconds - Int64(duration * 3_600_000_000))
        }
        if let s = start, let e = end, e < s {
            throw FHIRError.badRequest("$stats: the period ends before it starts", "$stats: el periodo termina antes de empezar")
        }
        return Request(patient: patient, codes: all, start: start, end: end, statistics: statistics, include: include, limit: limit)
    }

    /// Runs `request` through `guarded`.
    public static func run(_ request: Request, guarded: GuardedRepository) async throws -> JSON {
        var parameters: [(String, String)] = [("subject", "Patient/\(request.patient)"),
                                              ("combo-code", request.codes.map { $0.system.isEmpty ? $0.code : "\($0.system)|\($0.code)" }.joined(separator: ","))]
        if let s = request.start { parameters.append(("date", "ge" + s.description)) }
        if let e = request.end { parameters.append(("date", "le" + e.description)) }
        let observations = try await Fetch.all(guarded, "Observation", parameters)
        // values per (system, code), in time order
        var series: [String: (system: String, code: String, values: [Double], unit: String, total: Int, first: Timestamp?, last: Timestamp?)] = [:]
        var order: [String] = []
        var sources: [JSON] = []
        func wanted(_ system: String, _ code: String) -> Bool {
            request.codes.contains { $0.code == code && ($0.system.isEmpty || $0.system == system) }
        }
        func add(_ r: VitalReading, counted: Bool) {
            let key = "\(r.system)|\(r.code)"
            if series[key] == nil { series[key] = (r.system, r.code, [], r.unit, 0, nil, nil); order.append(key) }
            series[key]!.total += 1
            if counted, r.hasValue {
                series[key]!.values.append(r.value)
                if series[key]!.unit.isEmpty { series[key]!.unit = r.unit }
            }
            if series[key]!.first.map({ r.time < $0 }) ?? true { series[key]!.first = r.time }
            if series[key]!.last.map({ r.time > $0 }) ?? true { series[key]!.last = r.time }
        }
        for o in observations {
            guard let r = VitalReading(o) else {
                // an Observation of a wanted code without a number still counts in totalcount
                if o["status"]?.stringValue != "entered-in-error", case let (s, c)? = VitalReading.code(o["code"]), wanted(s, c) {
                    let key = "\(s)|\(c)"
                    if series[key] == nil { series[key] = (s, c, [], o["valueQuantity"]?["code"]?.stringValue ?? "", 0, nil, nil); order.append(key) }
                    series[key]!.total += 1
                }
                continue
            }
            var used = false
            if wanted(r.system, r.code) {
                if r.hasValue { add(r, counted: true) } else { for c in r.components { add(c, counted: true) } }
                used = true
            } else {
                for c in r.components where wanted(c.system, c.code) { add(c, counted: true); used = true }
            }
            if used, request.include, sources.count < (request.limit ?? Int.max) { sources.append(o) }
        }
        var out: [JSON] = []
        for key in order {
            let s = series[key]!
            var components: [JSON] = []
            for stat in request.statistics {
                guard let value = compute(stat, s.values, total: s.total) else { continue }
                let code: JSON = .object([("coding", .array([.object([("system", .string(statisticSystem)), ("code", .string(stat))])]))])
                if stat == "count" || stat == "totalcount" {
                    components.append(.object([("code", code), ("valueInteger", .number(String(Int(value))))]))
                } else {
                    var q: [(String, JSON)] = [("value", .number(format(value)))]
                    if !s.unit.isEmpty, !["skew", "kurtosis"].contains(stat) {
                        let unit = stat == "variance" ? "(\(s.unit))2" : s.unit
                        q += [("unit", .string(unit)), ("system", .string("http://unitsofmeasure.org")), ("code", .string(unit))]
                    }
                    components.append(.object([("code", code), ("valueQuantity", .object(q))]))
                }
            }
            var members: [(String, JSON)] = [("resourceType", .string("Observation")), ("status", .string("final")),
                                              ("code", .object([("coding", .array([.object([("system", .string(s.system)), ("code", .string(s.code))])]))])),
                                              ("subject", .object([("reference", .string("Patient/\(request.patient)"))]))]
            let from = request.start ?? s.first, to = request.end ?? s.last
            var period: [(String, JSON)] = []
            if let from { period.append(("start", .string(from.description))) }
            if let to { period.append(("end", .string(to.description))) }
            if !period.isEmpty { members.append(("effectivePeriod", .object(period))) }
            if !components.isEmpty { members.append(("component", .array(components))) }
            out.append(.object([("name", .string("statistics")), ("resource", .object(members))]))
        }
        for o in sources { out.append(.object([("name", .string("source")), ("resource", o)])) }
        var parametersResource: [(String, JSON)] = [("resourceType", .string("Parameters"))]
        if !out.isEmpty { parametersResource.append(("parameter", .array(out))) }
        return .object(parametersResource)
    }

    /// One statistic of `values` (nil when it is undefined, e.g. the average of nothing).
    static func compute(_ stat: String, _ values: [Double], total: Int) -> Double? {
        let n = Double(values.count)
        switch stat {
        case "count": return n
        case "totalcount": return Double(total)
        default: break
        }
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let sum = values.reduce(0, +)
        let mean = sum / n
        func quantile(_ p: Double) -> Double {
            let h = (n - 1) * p
            let lo = Int(h.rounded(.down)), hi = min(Int(h.rounded(.up)), sorted.count - 1)
            return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
        }
        func centralMoment(_ k: Double) -> Double { values.reduce(0) { $0 + pow($1 - mean, k) } / n }
        let variance = values.count > 1 ? values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0
        switch stat {
        case "average": return mean
        case "maximum": return sorted.last
        case "minimum": return sorted.first
        case "sum": return sum
        case "median": return quantile(0.5)
        case "variance": return variance
        case "std-dev": return variance.squareRoot()
        case "20-percent", "5-1": return quantile(0.2)
        case "5-2": return quantile(0.4)
        case "5-3": return quantile(0.6)
        case "80-percent", "5-4": return quantile(0.8)
        case "4-lower": return quantile(0.25)
        case "4-upper": return quantile(0.75)
        case "4-dev": return (quantile(0.75) - quantile(0.25)) / 2
        case "skew":
            let m2 = centralMoment(2)
            return m2 > 0 ? centralMoment(3) / pow(m2, 1.5) : 0
        case "kurtosis":
            let m2 = centralMoment(2)
            return m2 > 0 ? centralMoment(4) / (m2 * m2) - 3 : 0
        default: return nil
        }
    }

    /// A decimal with at most 4 digits after the point, no trailing zeros.
    static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        var s = String(format: "%.4f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}

/// Searches through a guard, following the pages (sorted by date).
enum Fetch {
    static func all(_ guarded: GuardedRepository, _ type: String, _ parameters: [(String, String)], max: Int = 1_000_000,
                    sort: String = "date") async throws -> [JSON] {
        var (query, _) = try SearchParser().parse(types: [type], parameters: parameters + [("_sort", sort), ("_count", "1000"), ("_total", "none")])
        var out: [JSON] = []
        while out.count < max {
            let page = try await guarded.search(query)
            for r in page.matches { out.append(try r.json()) }
            guard page.hasMore, let last = page.matches.last else { break }
            query.cursor = SearchCursor(keys: page.sortValues.last ?? [], type: last.type, id: last.id, direction: .next)
        }
        return out
    }
}
