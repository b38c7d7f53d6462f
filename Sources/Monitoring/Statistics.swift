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

    /// Runs `request` through `guarded`: in the database when it can give the same answer
    /// (`inDatabase`), else over the Observations read through the guard (`inMemory`).
    public static func run(_ request: Request, guarded: GuardedRepository) async throws -> JSON {
        if let answer = try await inDatabase(request, guarded: guarded) { return answer }
        return try await inMemory(request, guarded: guarded)
    }

    /// One code's readings as the statistics see them.
    struct Series {
        var system: String
        var code: String
        var unit: String
        var first: Timestamp?
        var last: Timestamp?
        var summary: Summary
    }

    /// What every statistic is computed from.
    struct Summary {
        var count: Int
        var total: Int
        var sum: Double
        var minimum: Double
        var maximum: Double
        /// Sample variance.
        var variance: Double
        /// Central moments over n (m2, m3, m4).
        var moments: (Double, Double, Double)
        /// Quantile by linear interpolation between the order statistics at (n − 1)·p.
        var quantile: (Double) -> Double

        /// From the values themselves (two passes).
        init(values: [Double], total: Int) {
            let sorted = values.sorted()
            let n = Double(values.count)
            count = values.count
            self.total = total
            sum = values.reduce(0, +)
            minimum = sorted.first ?? .nan
            maximum = sorted.last ?? .nan
            let mean = sum / n
            func centralMoment(_ k: Double) -> Double { values.reduce(0) { $0 + pow($1 - mean, k) } / n }
            variance = values.count > 1 ? values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0
            moments = values.isEmpty ? (0, 0, 0) : (centralMoment(2), centralMoment(3), centralMoment(4))
            quantile = { p in
                let h = (n - 1) * p
                let lo = Int(h.rounded(.down)), hi = min(Int(h.rounded(.up)), sorted.count - 1)
                return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
            }
        }

        /// From the database's count, sums of powers, extremes and order statistics (`ranks`:
        /// 0-based rank → value).
        init(count: Int, sums: [Double], minimum: Double, maximum: Double, ranks: [Int: Double]) {
            let n = Double(count)
            self.count = count
            total = count
            sum = sums[0]
            self.minimum = minimum
            self.maximum = maximum
            let mean = sums[0] / n
            let (s2, s3, s4) = (sums[1] / n, sums[2] / n, sums[3] / n)
            var m2 = s2 - mean * mean
            // what is left of a constant series after cancellation is rounding, not spread
            if m2 <= 1e-12 * max(1, mean * mean) { m2 = 0 }
            let m3 = m2 == 0 ? 0 : s3 - 3 * mean * s2 + 2 * mean * mean * mean
            let m4 = m2 == 0 ? 0 : s4 - 4 * mean * s3 + 6 * mean * mean * s2 - 3 * mean * mean * mean * mean
            moments = (m2, m3, m4)
            variance = count > 1 ? m2 * n / (n - 1) : 0
            quantile = { p in
                let h = (n - 1) * p
                let lo = Int(h.rounded(.down)), hi = min(Int(h.rounded(.up)), count - 1)
                let a = ranks[lo] ?? .nan, b = ranks[hi] ?? .nan
                return a + (h - Double(lo)) * (b - a)
            }
        }

        /// The 0-based ranks `quantile` needs for `statistics` over `count` values.
        static func ranks(for statistics: [String], count: Int) -> [Int] {
            guard count > 0 else { return [] }
            var ps: [Double] = []
            for s in statistics {
                switch s {
                case "median": ps.append(0.5)
                case "20-percent", "5-1": ps.append(0.2)
                case "5-2": ps.append(0.4)
                case "5-3": ps.append(0.6)
                case "80-percent", "5-4": ps.append(0.8)
                case "4-lower": ps.append(0.25)
                case "4-upper": ps.append(0.75)
                case "4-dev": ps += [0.25, 0.75]
                default: break
                }
            }
            let n = Double(count)
            return Array(Set(ps.flatMap { p -> [Int] in
                let h = (n - 1) * p
                return [Int(h.rounded(.down)), min(Int(h.rounded(.up)), count - 1)]
            })).sorted()
        }
    }

    /// `$stats` computed by the database through the guard (`GuardedRepository.aggregates`):
    /// count, sums of powers, extremes and the order statistics a quantile needs, for each code.
    /// It answers only when that is the same answer as `inMemory`: every Observation the search
    /// finds for the code (its own code or a component's) has that code as its only coding, one
    /// `valueQuantity` with a value, an effective time, a status other than entered-in-error or
    /// cancelled, and all have the same unit; the code has a system; `include` is false. Else nil.
    static func inDatabase(_ request: Request, guarded: GuardedRepository) async throws -> JSON? {
        guard !request.include, Set(request.codes.map { "\($0.system)|\($0.code)" }).count == request.codes.count,
              request.codes.allSatisfy({ !$0.system.isEmpty })
        else { return nil }
        var base: [(String, String)] = [("subject", "Patient/\(request.patient)")]
        if let s = request.start { base.append(("date", "ge" + s.description)) }
        if let e = request.end { base.append(("date", "le" + e.description)) }
        func query(_ parameters: [(String, String)]) throws -> SearchQuery {
            try SearchParser().parse(types: ["Observation"], parameters: parameters + [("_total", "none")]).0
        }
        var series: [Series] = []
        for c in request.codes {
            let token = "\(c.system)|\(c.code)"
            let found = try query(base + [("combo-code", token)])
            let excluded = try query(base + [("combo-code", token), ("status", "entered-in-error,cancelled")])
            let timed = try query(base + [("combo-code", token), ("date", "ge0001-01-01")])
            let own = try query(base + [("code", token)])
            let statistics = request.statistics
            guard let r = try await guarded.aggregates(own, patient: request.patient, counting: [found, excluded, timed], codeParameter: "code",
                                                       parameter: "value-quantity", time: "date",
                                                       ranks: { Summary.ranks(for: statistics, count: $0) })
            else { return nil }
            let n = r.counts[0]
            if n == 0 { continue }
            let a = r.aggregate
            guard r.counts[1] == 0, r.counts[2] == n, a.count == n, a.rows == n, r.indexRows == n, a.unitLow == a.unitHigh,
                  let minimum = a.minimum, let maximum = a.maximum
            else { return nil }
            let first = a.firstMillis.map { Timestamp(microseconds: Int64($0) * 1000) }
            let last = a.lastMillis.map { Timestamp(microseconds: Int64($0) * 1000) }
            series.append(Series(system: c.system, code: c.code, unit: a.unitLow ?? "", first: first, last: last,
                                 summary: Summary(count: n, sums: a.sums, minimum: minimum, maximum: maximum, ranks: r.ranks)))
        }
        // the series in the order of their first reading, as `inMemory` meets them
        let firsts = series.map { $0.first?.microseconds ?? 0 }
        if Set(firsts).count != firsts.count { return nil }
        series.sort { ($0.first?.microseconds ?? 0) < ($1.first?.microseconds ?? 0) }
        return parameters(request, series, sources: [])
    }

    /// `$stats` over the Observations read through the guard, computed here.
    static func inMemory(_ request: Request, guarded: GuardedRepository) async throws -> JSON {
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
        let all = order.map { key -> Series in
            let s = series[key]!
            return Series(system: s.system, code: s.code, unit: s.unit, first: s.first, last: s.last, summary: Summary(values: s.values, total: s.total))
        }
        return self.parameters(request, all, sources: sources)
    }

    /// The operation's `Parameters`: one `statistics` Observation per series, then the sources.
    static func parameters(_ request: Request, _ series: [Series], sources: [JSON]) -> JSON {
        var out: [JSON] = []
        for s in series {
            var components: [JSON] = []
            for stat in request.statistics {
                guard let value = compute(stat, s.summary) else { continue }
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

    /// One statistic of a series (nil when it is undefined, e.g. the average of nothing).
    static func compute(_ stat: String, _ s: Summary) -> Double? {
        let n = Double(s.count)
        switch stat {
        case "count": return n
        case "totalcount": return Double(s.total)
        default: break
        }
        guard s.count > 0 else { return nil }
        let (m2, m3, m4) = s.moments
        switch stat {
        case "average": return s.sum / n
        case "maximum": return s.maximum
        case "minimum": return s.minimum
        case "sum": return s.sum
        case "median": return s.quantile(0.5)
        case "variance": return s.variance
        case "std-dev": return s.variance.squareRoot()
        case "20-percent", "5-1": return s.quantile(0.2)
        case "5-2": return s.quantile(0.4)
        case "5-3": return s.quantile(0.6)
        case "80-percent", "5-4": return s.quantile(0.8)
        case "4-lower": return s.quantile(0.25)
        case "4-upper": return s.quantile(0.75)
        case "4-dev": return (s.quantile(0.75) - s.quantile(0.25)) / 2
        case "skew": return m2 > 0 ? m3 / pow(m2, 1.5) : 0
        case "kurtosis": return m2 > 0 ? m4 / (m2 * m2) - 3 : 0
        default: return nil
        }
    }

    /// A decimal with at most 4 digits after the point, no trailing zeros, rounded half away from
    /// zero as a decimal. The value is first taken to 12 significant digits, so that the last bits a
    /// sum's order leaves (the database adds in its own order) never decide a decimal tie: the
    /// average of 16 readings summing to 1857.1 is 116.06875, which prints 116.0688 on every path.
    static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        guard v.isFinite, var decimal = Decimal(string: String(format: "%.12g", v), locale: Locale(identifier: "en_US_POSIX")) else {
            return String(format: "%.4f", v)
        }
        var rounded = Decimal()
        NSDecimalRound(&rounded, &decimal, 4, .plain)
        return rounded.description
    }
}

/// Searches through a guard, following the pages (sorted by date): `GuardedRepository.searchAll`, as JSON.
enum Fetch {
    static func all(_ guarded: GuardedRepository, _ type: String, _ parameters: [(String, String)], max: Int = 1_000_000,
                    sort: String = "date") async throws -> [JSON] {
        try await guarded.searchAll(type, parameters + [("_sort", sort)], limit: max).prefix(max).map { try $0.json() }
    }
}
