import FHIR
import Foundation
import Storage
import Trust

/// A patient's readings of one vital over a period, with the target each is judged against
/// (the patient's Goal, else the default) — what the portal's charts draw (docs/monitoring.md).
public struct VitalSeries: Sendable {
    /// One vital the charts show.
    public struct Vital: Sendable {
        public var key: String
        public var codes: [String]
        /// The codes drawn as lines (blood pressure: systolic and diastolic).
        public var lines: [String]
        public var spanish: String
        public var english: String
    }

    public struct Point: Sendable {
        public var time: Timestamp
        public var value: Double
        public var outside: Bool
        public var observation: String
    }

    public struct Line: Sendable {
        public var code: String
        public var unit: String
        public var points: [Point]
        public var target: AlertTarget?
    }

    public var vital: Vital
    public var lines: [Line]
    public var count: Int { lines.map(\.points.count).max() ?? 0 }
    public var outside: Int { lines.flatMap(\.points).filter(\.outside).count }

    public static let vitals: [Vital] = [
        Vital(key: "glucosa", codes: ["2339-0", "41653-7", "2345-7", "15074-8"], lines: ["2339-0", "41653-7", "2345-7", "15074-8"],
              spanish: "Glucosa", english: "Glucose"),
        Vital(key: "presion", codes: ["85354-9", "8480-6", "8462-4"], lines: ["8480-6", "8462-4"], spanish: "Presión arterial", english: "Blood pressure"),
        Vital(key: "frecuencia", codes: ["8867-4", "40443-4"], lines: ["8867-4", "40443-4"], spanish: "Frecuencia cardiaca", english: "Heart rate"),
        Vital(key: "oxigeno", codes: ["59408-5", "2708-6"], lines: ["59408-5", "2708-6"], spanish: "Saturación de oxígeno", english: "Oxygen saturation"),
        Vital(key: "peso", codes: ["29463-7"], lines: ["29463-7"], spanish: "Peso", english: "Weight"),
        Vital(key: "pasos", codes: ["55423-8", "41950-7"], lines: ["55423-8", "41950-7"], spanish: "Pasos", english: "Steps"),
    ]

    /// Every vital with its readings of `patient` from `from` to `to`, read through `guarded`
    /// (at most `limit` Observations). Vitals without readings are included with empty lines.
    public static func load(patient: String, from: Timestamp, to: Timestamp, guarded: GuardedRepository, rules: AlertRules = AlertRules(),
                            limit: Int = 20_000) async throws -> [VitalSeries] {
        let codes = vitals.flatMap(\.codes).map { "http://loinc.org|\($0)" }.joined(separator: ",")
        let observations = try await Fetch.all(guarded, "Observation", [("subject", "Patient/\(patient)"), ("code", codes),
                                                                         ("date", "ge" + from.description), ("date", "le" + to.description)], max: limit)
        let goals = try await Fetch.all(guarded, "Goal", [("patient", "Patient/\(patient)"), ("lifecycle-status", "active")], sort: "_lastUpdated")
        var byCode: [String: [(VitalReading, VitalReading, String)]] = [:]  // line code → (value reading, whole reading, observation id)
        for o in observations {
            guard let r = VitalReading(o) else { continue }
            for v in r.all { byCode[v.code, default: []].append((v, r, o["id"]?.stringValue ?? "")) }
        }
        return vitals.map { vital in
            var lines: [Line] = []
            for code in vital.lines {
                let readings = (byCode[code] ?? []).sorted { $0.0.time < $1.0.time }
                guard !readings.isEmpty else { continue }
                let points = readings.map { v, whole, id in
                    let t = rules.target(code: code, meal: whole.meal, goals: goals)
                    return Point(time: v.time, value: v.value, outside: t?.outside(v.value) ?? false, observation: id)
                }
                lines.append(Line(code: code, unit: readings[0].0.unit, points: points, target: rules.target(code: code, meal: nil, goals: goals)))
            }
            return VitalSeries(vital: vital, lines: lines)
        }
    }
}
