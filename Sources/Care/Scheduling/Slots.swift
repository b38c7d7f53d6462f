import FHIR
import Foundation
import Storage
import Trust

/// Free-slot search and slot generation (docs/care.md, "Appointments").
public struct Slots: Sendable {
    public static let slotIdentifierSystem = "https://enlace.mx/fhir/sid/slot"

    public init() {}

    /// What `Appointment/$find` looks for.
    public struct Find: Sendable {
        /// `Practitioner/…`, `PractitionerRole/…`, `HealthcareService/…` or `Location/…` (Schedule.actor).
        public var actors: [String] = []
        public var schedules: [String] = []
        public var serviceType: String?
        public var start: String?
        public var end: String?
        public var count = 50

        public init(actors: [String] = [], schedules: [String] = [], serviceType: String? = nil, start: String? = nil, end: String? = nil, count: Int = 50) {
            self.actors = actors
            self.schedules = schedules
            self.serviceType = serviceType
            self.start = start
            self.end = end
            self.count = count
        }
    }

    static func query(_ type: String, _ parameters: [(String, String)]) throws -> SearchQuery {
        var options = SearchParser.Options()
        options.maxCount = 1000
        return try SearchParser(options: options).parse(types: [type], parameters: parameters).0
    }

    /// `Appointment/$find`: the free Slots (soonest first) of the active Schedules of the actors
    /// (or the schedules named) starting in [`start`, `end`) — by default from now for 14 days —
    /// and the Schedules, as `(slots, schedules)`. Read through the asker's guard (Slot and
    /// Schedule are shared data).
    public func find(_ f: Find, door: Door, repository: GuardedRepository, now: Timestamp) async throws -> (slots: [StoredResource], schedules: [StoredResource]) {
        guard !f.actors.isEmpty || !f.schedules.isEmpty else {
            throw FHIRError(status: 400, code: "required",
                            english: "$find needs whose slots: 'practitioner', 'service', 'location' or 'schedule'",
                            spanish: "$find necesita de quién son los horarios: 'practitioner', 'service', 'location' o 'schedule'")
        }
        for (name, value) in [("start", f.start), ("end", f.end)] {
            if let value, DateRange(value) == nil {
                throw FHIRError.badRequest("'\(name)' must be a date or dateTime, not '\(value)'", "'\(name)' debe ser una fecha o fecha y hora, no '\(value)'")
            }
        }
        let schedules = try await door.offeredSchedules(actors: f.actors, ids: f.schedules, audit: repository.audit)
        guard !schedules.isEmpty else { return ([], []) }
        let from = f.start ?? now.description
        let fromMillis = max(DateRange(from)!.low, now.microseconds / 1000)
        let until = f.end ?? Timestamp(microseconds: fromMillis * 1000 + 14 * 86_400_000_000).description
        var slotParameters: [(String, String)] = [
            ("schedule", schedules.map { "Schedule/\($0.id)" }.joined(separator: ",")), ("status", "free"),
            ("start", "ge" + Timestamp(microseconds: fromMillis * 1000).description), ("start", "lt\(until)"),
            ("_sort", "start"), ("_count", "\(min(max(f.count, 1), 500))"),
        ]
        if let t = f.serviceType { slotParameters.append(("service-type", t)) }
        let slots = try await repository.search(try Slots.query("Slot", slotParameters)).matches
        return (slots, schedules)
    }

    /// A searchset Bundle of the free slots (`match`) and their schedules (`include`).
    public static func bundle(_ found: (slots: [StoredResource], schedules: [StoredResource]), base: String) throws -> JSON {
        var entries: [JSON] = []
        for (r, mode) in found.slots.map({ ($0, "match") }) + found.schedules.map({ ($0, "include") }) {
            entries.append(.object([("fullUrl", .string("\(base)/\(r.type)/\(r.id)")), ("resource", try r.json()),
                                    ("search", .object([("mode", .string(mode))]))]))
        }
        return .object([("resourceType", .string("Bundle")), ("type", .string("searchset")), ("total", .number("\(found.slots.count)")),
                        ("entry", .array(entries))])
    }

    /// A clinic's week (or any span of days) of slots from a template.
    public struct Template: Sendable {
        /// The first day, `YYYY-MM-DD` (local).
        public var startDate: String
        public var days = 7
        /// ISO weekdays 1 (Monday) … 7 (Sunday) that have sessions.
        public var weekdays: Set<Int> = [1, 2, 3, 4, 5]
        /// Sessions of the day as (from, to) local times `HH:MM`.
        public var sessions: [(String, String)] = [("09:00", "14:00")]
        public var minutes = 20
        /// The clinic's UTC offset (`-06:00`, Mexico's Zona Centro, without daylight saving since 2022).
        public var offset = "-06:00"

        public init(startDate: String, days: Int = 7, weekdays: Set<Int> = [1, 2, 3, 4, 5], sessions: [(String, String)] = [("09:00", "14:00")],
                    minutes: Int = 20, offset: String = "-06:00") {
            self.startDate = startDate
            self.days = days
            self.weekdays = weekdays
            self.sessions = sessions
            self.minutes = minutes
            self.offset = offset
        }
    }

    static func minutes(_ hhmm: String) -> Int? {
        let p = hhmm.split(separator: ":")
        guard p.count >= 2, let h = Int(p[0]), let m = Int(p[1]), (0...24).contains(h), (0..<60).contains(m) else { return nil }
        return h * 60 + m
    }

    static func offsetMinutes(_ s: String) -> Int? {
        guard s.count == 6, let sign = s.first, sign == "+" || sign == "-", let m = minutes(String(s.dropFirst())) else { return nil }
        return sign == "-" ? -m : m
    }

    /// The Slot resources (free) a template makes for `schedule`, each with the identifier
    /// `{schedule id}-{start}` so that generating the same week twice creates nothing new.
    public func slots(_ t: Template, schedule: StoredResource) throws -> [JSON] {
        func bad(_ en: String, _ es: String) -> FHIRError { FHIRError(status: 400, code: "invalid", english: en, spanish: es) }
        guard t.startDate.count == 10, let day0 = DateRange(t.startDate) else { throw bad("'start' must be a date YYYY-MM-DD", "'start' debe ser una fecha AAAA-MM-DD") }
        guard (1...31).contains(t.days) else { throw bad("'days' must be 1 to 31", "'days' debe ser de 1 a 31") }
        guard (5...240).contains(t.minutes) else { throw bad("'minutes' must be 5 to 240", "'minutes' debe ser de 5 a 240") }
        guard let offset = Slots.offsetMinutes(t.offset) else { throw bad("'offset' must look like -06:00", "'offset' debe tener la forma -06:00") }
        let json = try schedule.json()
        var horizon: (Int64, Int64)?
        if let h = json["planningHorizon"] {
            horizon = (h["start"]?.stringValue.flatMap(DateRange.init)?.low ?? Int64.min, h["end"]?.stringValue.flatMap(DateRange.init)?.high ?? Int64.max)
        }
        var out: [JSON] = []
        for d in 0..<t.days {
            let dayMillis = day0.low + Int64(d) * 86_400_000
            let daysSinceEpoch = dayMillis / 86_400_000
            let weekday = Int(((daysSinceEpoch + 3) % 7 + 7) % 7) + 1  // 1970-01-01 was a Thursday (ISO 4)
            guard t.weekdays.contains(weekday) else { continue }
            for (from, to) in t.sessions {
                guard let a = Slots.minutes(from), let b = Slots.minutes(to), a < b else {
                    throw bad("a session runs from HH:MM to a later HH:MM ('\(from)'–'\(to)')", "una sesión va de HH:MM a un HH:MM posterior ('\(from)'–'\(to)')")
                }
                var m = a
                while m + t.minutes <= b {
                    let localStart = dayMillis + Int64(m) * 60_000, localEnd = localStart + Int64(t.minutes) * 60_000
                    let utcStart = localStart - Int64(offset) * 60_000, utcEnd = localEnd - Int64(offset) * 60_000
                    m += t.minutes
                    if let (lo, hi) = horizon, utcStart < lo || utcEnd > hi { continue }
                    func local(_ ms: Int64) -> String { String(Timestamp(microseconds: ms * 1000).description.prefix(19)) + t.offset }
                    var members: [(String, JSON)] = [
                        ("resourceType", .string("Slot")),
                        ("identifier", .array([.object([("system", .string(Slots.slotIdentifierSystem)), ("value", .string("\(schedule.id)-" + local(localStart).filter { $0.isNumber }))])])),
                    ]
                    if let st = json["serviceType"] { members.append(("serviceType", st)) }
                    if let sp = json["specialty"] { members.append(("specialty", sp)) }
                    members += [("schedule", .object([("reference", .string("Schedule/\(schedule.id)"))])), ("status", .string("free")),
                                ("start", .string(local(localStart))), ("end", .string(local(localEnd)))]
                    _ = utcEnd
                    out.append(.object(members))
                }
            }
        }
        return out
    }

    /// `Schedule/{id}/$generate-slots`: creates the template's slots (conditionally, so existing
    /// ones are kept) in one transaction through the asker's guard (the clinic's administrator
    /// or an operator write shared data). Returns how many were created and how many existed.
    public func generate(_ t: Template, schedule id: String, door: Door, repository: GuardedRepository, base: String) async throws -> (created: Int, existing: Int) {
        let schedule = try await door.clinicSchedule(repository.principal, id: id, audit: repository.audit)
        let slots = try slots(t, schedule: schedule)
        guard !slots.isEmpty else { return (0, 0) }
        guard slots.count <= 2000 else {
            throw FHIRError(status: 422, code: "too-costly", english: "the template makes \(slots.count) slots; at most 2000 at once",
                            spanish: "la plantilla genera \(slots.count) horarios; como máximo 2000 a la vez")
        }
        let entries: [JSON] = slots.map { s in
            let value = s["identifier"]?.arrayValue?.first?["value"]?.stringValue ?? ""
            return .object([("fullUrl", .string("urn:uuid:\(UUID().uuidString.lowercased())")), ("resource", s),
                            ("request", .object([("method", .string("POST")), ("url", .string("Slot")),
                                                 ("ifNoneExist", .string("identifier=\(Slots.slotIdentifierSystem)|\(value)"))]))])
        }
        var options = Repository.BundleOptions(base: base, maxEntries: 2000)
        options.entryWarnings = [:]
        let response = try await repository.process(bundle: Booking.transaction(entries), options: options)
        let created = (response["entry"]?.arrayValue ?? []).filter { $0["response"]?["status"]?.stringValue?.hasPrefix("201") == true }.count
        return (created, slots.count - created)
    }
}
