import FHIR
import Foundation

/// Open mHealth data points (https://www.openmhealth.org/documentation/#/schema-docs/schema-library,
/// IEEE 1752.1) mapped to FHIR R4 vital-sign and laboratory Observations (LOINC codes, UCUM units).
/// The mapping table is in docs/monitoring.md; the same codes and units are what a Personal
/// Health Device (PHD IG) gateway sends, so both inputs give the same Observations.
///
/// A data point is `{"header": {"schema_id": …, "acquisition_provenance": {"source_name": …}},
/// "body": {…}}`; `schema_id` is an object `{"namespace":"omh","name":"heart-rate","version":"2.0"}`
/// or the string `omh:heart-rate:2.0`.
public enum OpenMHealth {
    /// The schemas understood, by name.
    public static let schemas: [String] = ["heart-rate", "blood-glucose", "blood-pressure", "oxygen-saturation", "step-count",
                                           "body-weight", "body-temperature"]

    /// A reading sent more than this far in the future is refused (device clocks drift a little).
    public static let futureTolerance: Int64 = 5 * 60 * 1_000_000

    /// The system of the idempotency identifier every ingested reading gets.
    public static let readingSystem = "urn:enlace:reading"
    /// Extension recording the OMH `temporal_relationship_to_meal` of a glucose reading (fasting,
    /// after meal…), which decides which target applies (docs/monitoring.md).
    public static let mealExtension = "https://enlace.mx/fhir/StructureDefinition/temporal-relationship-to-meal"

    /// One data point mapped to an Observation for `patient` (an id), or the issues that make it
    /// unacceptable; the issues' expressions are relative to the data point (`body.heart_rate.value`).
    public static func observation(from point: JSON, patient: String, now: Timestamp) -> Result<JSON, MappingFailure> {
        var issues: [Issue] = []
        func fail(_ code: String, _ english: String, _ spanish: String, _ path: String) -> Result<JSON, MappingFailure> {
            issues.append(Issue(code: code, english: english, spanish: spanish, expression: [path]))
            return .failure(MappingFailure(issues: issues))
        }
        guard case .object = point else {
            return fail("structure", "a data point must be a JSON object, not \(point.kindName)",
                        "un punto de datos debe ser un objeto JSON, no \(point.kindName)", "")
        }
        guard let header = point["header"], case .object = header else {
            return fail("required", "the data point has no header (header.schema_id says what it is)",
                        "el punto de datos no tiene header (header.schema_id dice qué es)", "header")
        }
        guard let schema = SchemaID(header["schema_id"]) else {
            return fail("required", "header.schema_id is missing or malformed (expected omh:<name>:<version>)",
                        "header.schema_id falta o está mal formado (se espera omh:<nombre>:<versión>)", "header.schema_id")
        }
        guard schema.namespace == "omh", schemas.contains(schema.name) else {
            return fail("not-supported", "unknown schema \(schema); known: \(schemas.map { "omh:\($0)" }.joined(separator: ", "))",
                        "esquema desconocido \(schema); se conocen: \(schemas.map { "omh:\($0)" }.joined(separator: ", "))", "header.schema_id")
        }
        guard ["1", "2", "3", "4"].contains(schema.major) else {
            return fail("not-supported", "unsupported version \(schema.version) of omh:\(schema.name) (1.x to 4.x are read)",
                        "versión \(schema.version) de omh:\(schema.name) no admitida (se leen 1.x a 4.x)", "header.schema_id")
        }
        guard let body = point["body"], case .object = body else {
            return fail("required", "the data point has no body", "el punto de datos no tiene body", "body")
        }
        // when
        let when: When
        switch When.parse(body["effective_time_frame"]) {
        case .success(let w): when = w
        case .failure(let f): return fail(f.code, f.english, f.spanish, "body.effective_time_frame" + f.path)
        }
        if when.start.microseconds > now.microseconds + futureTolerance {
            return fail("value", "the reading's time \(when.startText) is in the future (more than 5 minutes after the server's clock)",
                        "la hora de la lectura \(when.startText) está en el futuro (más de 5 minutos después del reloj del servidor)",
                        "body.effective_time_frame")
        }
        // what
        let mapped: Mapped
        switch map(schema.name, body) {
        case .success(let m): mapped = m
        case .failure(let f): return fail(f.code, f.english, f.spanish, "body." + f.path)
        }
        let source = sourceName(header)
        var members: [(String, JSON)] = [("resourceType", .string("Observation"))]
        members.append(("identifier", .array([.object([("system", .string(readingSystem)),
                                                       ("value", .string(readingKey(patient: patient, source: source, time: when.start, code: mapped.code.code)))])])))
        members.append(("status", .string("final")))
        members.append(("category", .array([.object([("coding", .array([.object([
            ("system", .string("http://terminology.hl7.org/CodeSystem/observation-category")), ("code", .string(mapped.category))])]))])])))
        members.append(("code", mapped.code.concept(extra: mapped.extraCodes)))
        members.append(("subject", .object([("reference", .string("Patient/\(patient)"))])))
        if let end = when.endText {
            members.append(("effectivePeriod", .object([("start", .string(when.startText)), ("end", .string(end))])))
        } else {
            members.append(("effectiveDateTime", .string(when.startText)))
        }
        if let q = mapped.quantity { members.append(("valueQuantity", q.json)) }
        if let source { members.append(("device", .object([("display", .string(source))]))) }
        if !mapped.components.isEmpty {
            members.append(("component", .array(mapped.components.map { c in
                .object([("code", c.code.concept(extra: [])), ("valueQuantity", c.quantity.json)])
            })))
        }
        var observation = JSON.object(members)
        if let meal = mapped.meal {
            observation = observation.inserting("extension", .array([.object([("url", .string(mealExtension)), ("valueCode", .string(meal))])]),
                                                after: "resourceType")
        }
        return .success(observation)
    }

    /// Why a data point was refused.
    public struct MappingFailure: Error, Sendable {
        public var issues: [Issue]
    }

    /// `acquisition_provenance.source_name` (the app or device), with `source_origin_id` when given.
    static func sourceName(_ header: JSON) -> String? {
        let p = header["acquisition_provenance"]
        let name = p?["source_name"]?.stringValue
        let origin = p?["source_origin_id"]?.stringValue
        switch (name, origin) {
        case let (n?, o?): return "\(n) (\(o))"
        case let (n?, nil): return n
        case let (nil, o?): return o
        default: return nil
        }
    }

    /// The idempotency key of a reading: a stable hash (two 64-bit FNV-1a) of the patient, the
    /// source, the time (in microseconds since 1970, so `Z` and `-06:00` spellings agree) and the code.
    public static func readingKey(patient: String, source: String?, time: Timestamp, code: String) -> String {
        let text = "\(patient)|\(source ?? "")|\(time.microseconds)|\(code)"
        return hex(fnv1a(text, seed: 0xcbf2_9ce4_8422_2325)) + hex(fnv1a(text, seed: 0x6c62_272e_07bb_0142))
    }

    static func fnv1a(_ text: String, seed: UInt64) -> UInt64 {
        var h = seed
        for b in text.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

// MARK: - schema id

struct SchemaID: CustomStringConvertible {
    var namespace: String
    var name: String
    var version: String
    var major: String { String(version.split(separator: ".").first ?? "") }
    var description: String { "\(namespace):\(name):\(version)" }

    init?(_ json: JSON?) {
        if let s = json?.stringValue {
            let parts = s.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
            namespace = parts[0]; name = parts[1]; version = parts[2]
        } else if let ns = json?["namespace"]?.stringValue, let n = json?["name"]?.stringValue {
            namespace = ns
            name = n
            version = json?["version"]?.stringValue ?? "1.0"
        } else {
            return nil
        }
    }
}

// MARK: - time frames

struct LocalFailure: Error {
    var code: String
    var english: String
    var spanish: String
    var path: String
}

/// `effective_time_frame`: a `date_time`, or a `time_interval` with `start_date_time` and
/// `end_date_time` (or a `duration`).
struct When {
    var start: Timestamp
    var startText: String
    var endText: String?

    static func parse(_ frame: JSON?) -> Result<When, LocalFailure> {
        guard let frame, case .object = frame else {
            return .failure(LocalFailure(code: "required", english: "effective_time_frame is required (date_time or time_interval)",
                                         spanish: "effective_time_frame es obligatorio (date_time o time_interval)", path: ""))
        }
        func instant(_ v: JSON?, _ path: String) -> Result<Timestamp, LocalFailure> {
            guard let s = v?.stringValue, let t = Timestamp(instant: s) else {
                return .failure(LocalFailure(code: "value", english: "\(path) must be a date and time with a zone, e.g. 2026-11-24T07:30:00-06:00",
                                             spanish: "\(path) debe ser una fecha y hora con zona, p. ej. 2026-11-24T07:30:00-06:00", path: "." + path))
            }
            return .success(t)
        }
        if let dt = frame["date_time"] {
            switch instant(dt, "date_time") {
            case .success(let t): return .success(When(start: t, startText: dt.stringValue!, endText: nil))
            case .failure(let f): return .failure(f)
            }
        }
        guard let interval = frame["time_interval"] else {
            return .failure(LocalFailure(code: "required", english: "effective_time_frame needs date_time or time_interval",
                                         spanish: "effective_time_frame necesita date_time o time_interval", path: ""))
        }
        let start: Timestamp
        switch instant(interval["start_date_time"], "time_interval.start_date_time") {
        case .success(let t): start = t
        case .failure(let f): return .failure(f)
        }
        let startText = interval["start_date_time"]!.stringValue!
        if let end = interval["end_date_time"] {
            switch instant(end, "time_interval.end_date_time") {
            case .success(let t):
                guard t >= start else {
                    return .failure(LocalFailure(code: "value", english: "time_interval ends before it starts",
                                                 spanish: "time_interval termina antes de empezar", path: ".time_interval"))
                }
                return .success(When(start: start, startText: startText, endText: end.stringValue!))
            case .failure(let f): return .failure(f)
            }
        }
        if let d = interval["duration"], let v = Number.double(d["value"]), v >= 0 {
            let seconds: Double
            switch d["unit"]?.stringValue {
            case "sec", "s": seconds = v
            case "min": seconds = v * 60
            case "h": seconds = v * 3600
            case "d": seconds = v * 86_400
            default:
                return .failure(LocalFailure(code: "code-invalid", english: "time_interval.duration.unit must be sec, min, h or d",
                                             spanish: "time_interval.duration.unit debe ser sec, min, h o d", path: ".time_interval.duration.unit"))
            }
            // a reading spans at most a year: a larger duration (`1e20 d`) overflowed the end time
            // and trapped (found looking for the pattern FuzzJWT found, docs/reliability.md)
            guard seconds <= 366 * 86_400 else {
                return .failure(LocalFailure(code: "value", english: "time_interval.duration is longer than a year (366 d)",
                                             spanish: "time_interval.duration dura más de un año (366 d)", path: ".time_interval.duration.value"))
            }
            let end = Timestamp(microseconds: start.microseconds + Int64(seconds * 1_000_000))
            return .success(When(start: start, startText: startText, endText: end.description))
        }
        return .failure(LocalFailure(code: "required", english: "time_interval needs end_date_time or duration",
                                     spanish: "time_interval necesita end_date_time o duration", path: ".time_interval"))
    }
}

// MARK: - values

enum Number {
    static func double(_ v: JSON?) -> Double? {
        guard case .number(let s)? = v else { return nil }
        return Double(s)
    }
}

/// A LOINC (or other) coding.
struct Code: Sendable {
    var system: String = "http://loinc.org"
    var code: String
    var display: String

    func concept(extra: [Code]) -> JSON {
        .object([("coding", .array(([self] + extra).map { c in
            .object([("system", .string(c.system)), ("code", .string(c.code)), ("display", .string(c.display))])
        })), ("text", .string(display))])
    }
}

/// A UCUM quantity, keeping the number exactly as sent.
struct Quantity: Sendable {
    var value: String
    var unit: String
    var ucum: String
    var json: JSON {
        .object([("value", .number(value)), ("unit", .string(unit)), ("system", .string("http://unitsofmeasure.org")), ("code", .string(ucum))])
    }
}

struct Mapped {
    var code: Code
    var extraCodes: [Code] = []
    var category = "vital-signs"
    var quantity: Quantity?
    var components: [(code: Code, quantity: Quantity)] = []
    var meal: String?
}

extension OpenMHealth {
    /// The LOINC codes the mapping produces (docs/monitoring.md).
    public enum LOINC {
        public static let heartRate = "8867-4"
        public static let glucoseMass = "2339-0"
        public static let glucoseMoles = "15074-8"
        public static let bloodPressure = "85354-9"
        public static let systolic = "8480-6"
        public static let diastolic = "8462-4"
        public static let oxygenSaturation = "59408-5"
        public static let oxygenSaturationVital = "2708-6"
        public static let steps = "55423-8"
        public static let bodyWeight = "29463-7"
        public static let bodyTemperature = "8310-5"
    }

    /// `(value, OMH unit)` of a unit-value body member, with its range checked.
    static func unitValue(_ v: JSON?, _ path: String, units: [String: String], range: ClosedRange<Double>, what: (String, String),
                          allowBareNumber: String? = nil) -> Result<Quantity, LocalFailure> {
        if let bare = allowBareNumber, case .number(let s)? = v, let d = Double(s) {
            guard range.contains(d) else { return .failure(outOfRange(path, d, range, what)) }
            return .success(Quantity(value: s, unit: bare, ucum: units[bare] ?? bare))
        }
        guard let v, case .object = v else {
            return .failure(LocalFailure(code: "required", english: "\(path) is required ({\"value\": …, \"unit\": …})",
                                         spanish: "\(path) es obligatorio ({\"value\": …, \"unit\": …})", path: path))
        }
        guard case .number(let s)? = v["value"], let d = Double(s), d.isFinite else {
            return .failure(LocalFailure(code: "value", english: "\(path).value must be a number", spanish: "\(path).value debe ser un número",
                                         path: path + ".value"))
        }
        guard let unit = v["unit"]?.stringValue, let ucum = units[unit] else {
            let got = v["unit"]?.stringValue ?? "(none)"
            let known = units.keys.sorted().joined(separator: ", ")
            return .failure(LocalFailure(code: "code-invalid", english: "unknown unit '\(got)' for \(what.0); accepted: \(known)",
                                         spanish: "unidad desconocida '\(got)' para \(what.1); se aceptan: \(known)", path: path + ".unit"))
        }
        let r = rangeFor(unit: unit, base: range, units: units)
        guard r.contains(d) else { return .failure(outOfRange(path + ".value", d, r, what, unit: unit)) }
        return .success(Quantity(value: s, unit: unit, ucum: ucum))
    }

    /// Plausibility ranges are written for the first unit of a schema; other units convert.
    static func rangeFor(unit: String, base: ClosedRange<Double>, units: [String: String]) -> ClosedRange<Double> {
        switch unit {
        case "mmol/L": return (base.lowerBound / 18.0)...(base.upperBound / 18.0)
        case "g": return (base.lowerBound * 1000)...(base.upperBound * 1000)
        case "lb": return (base.lowerBound * 2.2046)...(base.upperBound * 2.2046)
        case "F": return (base.lowerBound * 9 / 5 + 32)...(base.upperBound * 9 / 5 + 32)
        case "K": return (base.lowerBound + 273.15)...(base.upperBound + 273.15)
        default: return base
        }
    }

    static func outOfRange(_ path: String, _ d: Double, _ r: ClosedRange<Double>, _ what: (String, String), unit: String = "") -> LocalFailure {
        func f(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(format: "%.1f", x) }
        let u = unit.isEmpty ? "" : " \(unit)"
        return LocalFailure(code: "value", english: "\(what.0) of \(f(d))\(u) is impossible (accepted: \(f(r.lowerBound)) to \(f(r.upperBound))\(u))",
                            spanish: "\(what.1) de \(f(d))\(u) es imposible (se acepta de \(f(r.lowerBound)) a \(f(r.upperBound))\(u))", path: path)
    }

    static func map(_ schema: String, _ body: JSON) -> Result<Mapped, LocalFailure> {
        do {
            switch schema {
            case "heart-rate":
                let q = try unitValue(body["heart_rate"], "heart_rate", units: ["beats/min": "/min"], range: 1...350,
                                      what: ("a heart rate", "una frecuencia cardiaca")).get()
                return .success(Mapped(code: Code(code: LOINC.heartRate, display: "Heart rate"), quantity: q))
            case "blood-glucose":
                let q = try unitValue(body["blood_glucose"], "blood_glucose", units: ["mg/dL": "mg/dL", "mmol/L": "mmol/L"], range: 10...1500,
                                      what: ("a blood glucose", "una glucosa")).get()
                let code = q.unit == "mmol/L" ? Code(code: LOINC.glucoseMoles, display: "Glucose [Moles/volume] in Blood")
                                              : Code(code: LOINC.glucoseMass, display: "Glucose [Mass/volume] in Blood")
                var m = Mapped(code: code, category: "laboratory", quantity: q)
                if let meal = body["temporal_relationship_to_meal"]?.stringValue {
                    let known = ["fasting", "not fasting", "before breakfast", "after breakfast", "before lunch", "after lunch",
                                 "before dinner", "after dinner", "before meal", "after meal", "2 hours postprandial", "random", "bedtime"]
                    guard known.contains(meal) else {
                        throw LocalFailure(code: "code-invalid", english: "unknown temporal_relationship_to_meal '\(meal)'",
                                           spanish: "temporal_relationship_to_meal desconocido '\(meal)'", path: "temporal_relationship_to_meal")
                    }
                    m.meal = meal.replacingOccurrences(of: " ", with: "-")
                }
                return .success(m)
            case "blood-pressure":
                let s = try unitValue(body["systolic_blood_pressure"], "systolic_blood_pressure", units: ["mmHg": "mm[Hg]"], range: 30...300,
                                      what: ("a systolic pressure", "una presión sistólica")).get()
                let d = try unitValue(body["diastolic_blood_pressure"], "diastolic_blood_pressure", units: ["mmHg": "mm[Hg]"], range: 10...200,
                                      what: ("a diastolic pressure", "una presión diastólica")).get()
                if let sv = Double(s.value), let dv = Double(d.value), dv >= sv {
                    throw LocalFailure(code: "value", english: "the diastolic pressure (\(d.value)) must be below the systolic (\(s.value))",
                                       spanish: "la presión diastólica (\(d.value)) debe ser menor que la sistólica (\(s.value))", path: "diastolic_blood_pressure.value")
                }
                return .success(Mapped(code: Code(code: LOINC.bloodPressure, display: "Blood pressure panel with all children optional"),
                                       components: [(Code(code: LOINC.systolic, display: "Systolic blood pressure"), s),
                                                    (Code(code: LOINC.diastolic, display: "Diastolic blood pressure"), d)]))
            case "oxygen-saturation":
                let q = try unitValue(body["oxygen_saturation"], "oxygen_saturation", units: ["%": "%"], range: 0...100,
                                      what: ("an oxygen saturation", "una saturación de oxígeno")).get()
                return .success(Mapped(code: Code(code: LOINC.oxygenSaturation, display: "Oxygen saturation in Arterial blood by Pulse oximetry"),
                                       extraCodes: [Code(code: LOINC.oxygenSaturationVital, display: "Oxygen saturation in Arterial blood")], quantity: q))
            case "step-count":
                let q = try unitValue(body["step_count"], "step_count", units: ["steps": "{steps}"], range: 0...200_000,
                                      what: ("a step count", "un conteo de pasos"), allowBareNumber: "steps").get()
                return .success(Mapped(code: Code(code: LOINC.steps, display: "Number of steps in unspecified time Pedometer"), category: "activity",
                                       quantity: q))
            case "body-weight":
                let q = try unitValue(body["body_weight"], "body_weight", units: ["kg": "kg", "g": "g", "lb": "[lb_av]"], range: 0.2...700,
                                      what: ("a body weight", "un peso corporal")).get()
                return .success(Mapped(code: Code(code: LOINC.bodyWeight, display: "Body weight"), quantity: q))
            case "body-temperature":
                let q = try unitValue(body["body_temperature"], "body_temperature", units: ["C": "Cel", "F": "[degF]", "K": "K"], range: 25...45,
                                      what: ("a body temperature", "una temperatura corporal")).get()
                return .success(Mapped(code: Code(code: LOINC.bodyTemperature, display: "Body temperature"), quantity: q))
            default:
                throw LocalFailure(code: "not-supported", english: "unknown schema \(schema)", spanish: "esquema desconocido \(schema)", path: "")
            }
        } catch let f as LocalFailure {
            return .failure(f)
        } catch {
            return .failure(LocalFailure(code: "exception", english: "\(error)", spanish: "\(error)", path: ""))
        }
    }
}
