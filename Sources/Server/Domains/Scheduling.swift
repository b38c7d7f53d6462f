import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Care
import Storage
import Trust

/// The wiring of Care's appointments (docs/care.md, "Appointments"): `Appointment/$find`,
/// `Appointment/$book`, `Appointment/{id}/$cancel`, `$reschedule`, `$start`,
/// `Schedule/{id}/$generate-slots`, and a POSTed Appointment that names slots (booked through
/// the same path as `$book`). Registered from `registerCare`.
extension FHIRAPI {
    func registerScheduling(on fhir: RouterGroup<EnlaceRequestContext>) {
        fhir.get("{type}/$find") { req, ctx in try await findSlots(req, ctx, parameters: nil) }
        fhir.post("{type}/$find") { req, ctx in try await findSlots(req, ctx, parameters: try await body(req)) }
        fhir.post("{type}/$book") { req, ctx in try await bookOperation(req, ctx) }
        fhir.post("{type}/{id}/$cancel") { req, ctx in try await cancelAppointment(req, ctx) }
        fhir.post("{type}/{id}/$reschedule") { req, ctx in try await rescheduleAppointment(req, ctx) }
        fhir.post("{type}/{id}/$start") { req, ctx in try await startAppointment(req, ctx) }
        fhir.post("{type}/{id}/$generate-slots") { req, ctx in try await generateSlots(req, ctx) }
    }

    var booking: Booking { Booking(base: base) }

    func principal(_ ctx: EnlaceRequestContext) throws -> Principal {
        guard let p = ctx.principal else { throw FHIRError(status: 401, code: "login", english: "authentication required", spanish: "se requiere autenticación") }
        return p
    }

    /// All values of parameter `name` in a Parameters resource, or of the query when nil.
    func values(_ request: Request, _ parameters: JSON?, _ name: String) -> [String] {
        if let parameters {
            return (parameters["parameter"]?.arrayValue ?? []).filter { $0["name"]?.stringValue == name }.compactMap(FHIRAPI.scalar)
        }
        return request.uri.queryParameters[values: Substring(name)].flatMap { $0.split(separator: ",").map(String.init) }
    }

    /// A parameter's value as text (a reference, a string-like primitive, a number or boolean).
    static func scalar(_ p: JSON) -> String? {
        if let r = p["valueReference"]?["reference"]?.stringValue { return r }
        for key in ["valueString", "valueDateTime", "valueDate", "valueCode", "valueInstant", "valueUri"] {
            if let v = p[key]?.stringValue { return v }
        }
        if let n = p["valueInteger"] ?? p["valueDecimal"] ?? p["valuePositiveInt"] { return String(decoding: n.serialized(), as: UTF8.self) }
        if let b = p["valueBoolean"]?.boolValue { return b ? "true" : "false" }
        return p["valueCodeableConcept"]?["text"]?.stringValue
    }

    func requireParameters(_ json: JSON, _ operation: String) throws -> JSON {
        guard json["resourceType"]?.stringValue == "Parameters" else {
            throw FHIRError.badRequest("\(operation) takes a Parameters resource", "\(operation) recibe un recurso Parameters")
        }
        return json
    }

    func findSlots(_ request: Request, _ ctx: EnlaceRequestContext, parameters: JSON?) async throws -> Response {
        _ = try requireType(ctx, "Appointment", operation: "$find")
        if let parameters { _ = try requireParameters(parameters, "$find") }
        func refs(_ name: String, _ type: String) -> [String] { values(request, parameters, name).map { $0.contains("/") ? $0 : "\(type)/\($0)" } }
        let count = values(request, parameters, "_count").first.flatMap { Int($0) } ?? 50
        let f = Slots.Find(actors: refs("practitioner", "Practitioner") + refs("service", "HealthcareService") + refs("location", "Location"),
                           schedules: refs("schedule", "Schedule"), serviceType: values(request, parameters, "service-type").first,
                           start: values(request, parameters, "start").first, end: values(request, parameters, "end").first, count: count)
        let found = try await Slots().find(f, door: door, repository: try await guarded(ctx), now: clock.now())
        return FHIRResponse.json(.ok, try Slots.bundle(found, base: base))
    }

    /// `$book`: Parameters with `slot` (1..*), `patient`, optional `basedOn`, `virtual`
    /// (valueBoolean) and `appointment` (a resource to complete), or an Appointment with `slot`.
    func bookOperation(_ request: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        _ = try requireType(ctx, "Appointment", operation: "$book")
        let json = try await body(request)
        let r: Booking.Request
        switch json["resourceType"]?.stringValue {
        case "Appointment": r = try Booking.Request.from(appointment: json)
        case "Parameters":
            let slots = values(request, json, "slot").map { $0.hasPrefix("Slot/") ? $0 : "Slot/\($0)" }
            guard !slots.isEmpty, let patient = values(request, json, "patient").first else {
                throw FHIRError(status: 400, code: "required", english: "$book needs 'slot' (valueReference) and 'patient' (valueReference)",
                                spanish: "$book necesita 'slot' (valueReference) y 'patient' (valueReference)")
            }
            let given = FHIRAPI.parameter(json, "appointment")?["resource"]
            if let given, given["resourceType"]?.stringValue != "Appointment" {
                throw FHIRError.badRequest("the parameter 'appointment' must hold an Appointment", "el parámetro 'appointment' debe contener un Appointment")
            }
            r = Booking.Request(slots: slots, patient: patient, basedOn: values(request, json, "basedOn"),
                                virtual: values(request, json, "virtual").first == "true", appointment: given)
        default:
            throw FHIRError.badRequest("$book takes Parameters (slot, patient) or an Appointment with slot",
                                       "$book recibe Parameters (slot, patient) o un Appointment con slot")
        }
        return try await booked(r, request, ctx)
    }

    func booked(_ r: Booking.Request, _ request: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        let stored = try await booking.book(r, door: door, principal: try principal(ctx), audit: ctx.audit, now: clock.now())
        return FHIRResponse.written(stored, status: .created, request: request, base: base, location: true)
    }

    /// A plain `POST /fhir/Appointment` that names slots (status booked or pending): booked like `$book`.
    func createAppointment(_ resource: JSON, _ request: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        try await booked(try Booking.Request.from(appointment: resource), request, ctx)
    }

    func cancelAppointment(_ request: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        _ = try requireType(ctx, "Appointment", operation: "$cancel")
        let id = try ctx.parameters.require("id")
        let p = try requireParameters(try await body(request), "$cancel")
        let reason = values(request, p, "reason").first ?? ""
        let stored = try await booking.cancel(id, reason: reason, door: door, principal: try principal(ctx), audit: ctx.audit, now: clock.now())
        return FHIRResponse.written(stored, status: .ok, request: request, base: base, location: false)
    }

    func rescheduleAppointment(_ request: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        _ = try requireType(ctx, "Appointment", operation: "$reschedule")
        let id = try ctx.parameters.require("id")
        let p = try requireParameters(try await body(request), "$reschedule")
        let slots = values(request, p, "slot").map { $0.hasPrefix("Slot/") ? $0 : "Slot/\($0)" }
        let stored = try await booking.reschedule(id, to: slots, door: door, principal: try principal(ctx), audit: ctx.audit, now: clock.now())
        return FHIRResponse.written(stored, status: .ok, request: request, base: base, location: false)
    }

    func startAppointment(_ request: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        _ = try requireType(ctx, "Appointment", operation: "$start")
        let id = try ctx.parameters.require("id")
        let (encounter, created) = try await booking.start(id, door: door, principal: try principal(ctx), audit: ctx.audit, now: clock.now())
        return FHIRResponse.written(encounter, status: created ? .created : .ok, request: request, base: base, location: true)
    }

    /// `Schedule/{id}/$generate-slots`: Parameters `start` (valueDate), `days`, `weekday`
    /// (valueCode mon…sun, repeated), `session` (valueString `09:00-14:00`, repeated),
    /// `minutes`, `offset` (valueString `-06:00`).
    func generateSlots(_ request: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        _ = try requireType(ctx, "Schedule", operation: "$generate-slots")
        let id = try ctx.parameters.require("id")
        let p = try requireParameters(try await body(request), "$generate-slots")
        guard let start = values(request, p, "start").first else {
            throw FHIRError(status: 400, code: "required", english: "$generate-slots needs 'start' (valueDate, the first day)",
                            spanish: "$generate-slots necesita 'start' (valueDate, el primer día)")
        }
        var t = Slots.Template(startDate: start)
        if let d = values(request, p, "days").first { t.days = Int(d) ?? 0 }
        if let m = values(request, p, "minutes").first { t.minutes = Int(m) ?? 0 }
        if let o = values(request, p, "offset").first { t.offset = o }
        let days = ["mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7]
        let weekdays = values(request, p, "weekday")
        if !weekdays.isEmpty {
            t.weekdays = Set(try weekdays.map { w in
                guard let n = days[w.lowercased()] else {
                    throw FHIRError.badRequest("'weekday' is one of mon, tue, wed, thu, fri, sat, sun (not '\(w)')",
                                               "'weekday' es uno de mon, tue, wed, thu, fri, sat, sun (no '\(w)')")
                }
                return n
            })
        }
        let sessions = values(request, p, "session")
        if !sessions.isEmpty {
            t.sessions = try sessions.map { s in
                let parts = s.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else {
                    throw FHIRError.badRequest("'session' looks like 09:00-14:00 (not '\(s)')", "'session' tiene la forma 09:00-14:00 (no '\(s)')")
                }
                return (parts[0], parts[1])
            }
        }
        let (created, existing) = try await Slots().generate(t, schedule: id, door: door, repository: try await guarded(ctx), base: base)
        let out = JSON.object([("resourceType", .string("Parameters")), ("parameter", .array([
            .object([("name", .string("created")), ("valueInteger", .number("\(created)"))]),
            .object([("name", .string("existing")), ("valueInteger", .number("\(existing)"))]),
        ]))])
        return FHIRResponse.json(created > 0 ? .created : .ok, out)
    }
}

extension CapabilityContribution {
    static var scheduling: [String: [(name: String, definition: String)]] {
        ["Appointment": [
            ("find", "https://enlace.mx/fhir/OperationDefinition/Appointment-find"),
            ("book", "https://enlace.mx/fhir/OperationDefinition/Appointment-book"),
            ("cancel", "https://enlace.mx/fhir/OperationDefinition/Appointment-cancel"),
            ("reschedule", "https://enlace.mx/fhir/OperationDefinition/Appointment-reschedule"),
            ("start", "https://enlace.mx/fhir/OperationDefinition/Appointment-start"),
        ], "Schedule": [("generate-slots", "https://enlace.mx/fhir/OperationDefinition/Schedule-generate-slots")]]
    }
}
