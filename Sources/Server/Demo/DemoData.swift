import FHIR
import Foundation
import Storage
import Trust

/// `enlace serve --demo`: fills an empty data directory with a realistic, entirely synthetic
/// Mexican demo — 56 patients with valid CURPs across the life course, an IMSS family-medicine
/// unit and a private hospital (with CLUES), a pharmacy and a payer, practitioners whose
/// encounters and care teams give them treating relationships, a year of visits with CIE-10
/// diagnoses, labs with reference ranges, childhood immunizations per the Cartilla Nacional de
/// Salud, wearable series, consents, provenance and some accesses in the audit ledger — plus Ana's
/// privacy story run through the real privacy operations (an approved access request, a pending
/// one, a break-the-glass; see `seedPrivacyStory`) — and creates demo sign-ins with random
/// passwords (stored hashed, printed once). The clinical content is generated from a fixed seed
/// so every demo looks alike; the passwords (and the ids the privacy operations assign) are random
/// per data directory.
public struct DemoData: Sendable {
    public struct SignIn: Sendable {
        public var username: String
        public var password: String
        public var role: String
        public var who: String
    }

    let services: EnlaceServices

    public init(services: EnlaceServices) { self.services = services }

    /// Loads the demo unless the store already holds patients or users. Returns the sign-ins
    /// created, or nil when the data directory was not empty.
    public func loadIfEmpty() async throws -> [SignIn]? {
        let hasPatients = try await services.door.system(.startup).holdsAny("Patient")
        let identity = services.identity
        let hasUsers = !(try await identity.users().isEmpty)
        if hasPatients || hasUsers { return nil }
        var generator = DemoGenerator(now: services.clock.now().date)
        let shared = generator.sharedResources()
        try await transaction(shared.map { ($0, nil) }, patients: [])
        for patient in generator.patients() {
            let resources = generator.record(for: patient)
            try await transaction(resources.map { ($0, patient.id) }, patients: [patient.id])
        }
        let story = try await seedPrivacyStory(generator)
        try await seedAccesses(generator, story: story)
        try await seedMonitoring(generator)
        try await seedPrevention(generator)
        try await seedCare(generator)
        try await seedFinancing(generator)
        try await seedInterop(generator)
        return try await createUsers(identity)
    }

    /// What `seedPrivacyStory` wrote: the Consent of the approved request and the break-the-glass Task.
    struct PrivacyStory {
        var approvedConsent: String
        var breakTheGlassTask: String
    }

    static let castilloRequest = "demo-p001-request-castillo"
    static let aguilarRequest = "demo-p001-request-aguilar"

    /// Ana's privacy story, written through the same `PrivacyOperations` the API runs:
    /// - two access requests (consent-request Tasks) from doctors of the Centro de Especialidades
    ///   Coyoacán, who have no care relationship with her;
    /// - 10 days ago Ana approved the cardiologist's, narrowed to 90 days
    ///   (`PrivacyOperations.approve` with Ana as principal): Dra. Castillo sees her record only
    ///   through that Consent;
    /// - the endocrinologist's is still pending, for Ana to answer on *Mis permisos*;
    /// - 41 days ago Dr. Ramírez broke the glass in the emergency room
    ///   (`PrivacyOperations.breakTheGlass`): a btg-review Task for the privacy officer, a
    ///   Communication to Ana and a flagged audit entry.
    func seedPrivacyStory(_ g: DemoGenerator) async throws -> PrivacyStory {
        let ana = g.anaID
        func request(_ id: String, _ practitioner: String, daysAgo: Double, reason: String, categories: [String], days: Int) -> JSON {
            var inputs: [[String: Any]] = [["type": ["text": "purpose"], "valueCode": "TREAT"]]
            for c in categories { inputs.append(["type": ["text": "category"], "valueCode": c]) }
            inputs.append(["type": ["text": "duration"],
                           "valueDuration": ["value": days, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"]])
            return fhir(["resourceType": "Task", "id": id, "status": "requested", "intent": "proposal",
                         "code": ["coding": [["system": PrivacyCodes.taskCodes, "code": PrivacyCodes.consentRequest]]],
                         "for": ["reference": "Patient/\(ana)"], "requester": g.ref(practitioner),
                         "authoredOn": g.instant(g.ago(daysAgo)), "reasonCode": ["text": reason], "input": inputs])
        }
        let requests = [
            request(Self.castilloRequest, "Practitioner/dra-castillo", daysAgo: 12,
                    reason: "Valoración cardiológica por hipertensión (enviada por su médico familiar)", categories: [], days: 180),
            request(Self.aguilarRequest, "Practitioner/dr-aguilar", daysAgo: 2,
                    reason: "Valoración de endocrinología: control de la diabetes y bienestar emocional", categories: ["MH"], days: 180),
        ]
        try await transaction(requests.map { ($0, nil) }, patients: [ana])

        // Ana approves the cardiologist's request 10 days ago, for 90 days instead of 180.
        let approvedAt = Timestamp(date: g.ago(10))
        let anaPrincipal = Principal(subject: "user:ana", scopes: ScopeSet("patient/*.cruds"), tokenID: "enlace-serve-demo", role: .patient,
                                     patient: "Patient/\(ana)", clientID: "portal")
        let approval = AuditContext(requestID: "demo-approve", method: "POST", path: "/permisos/solicitudes/aprobar", query: nil, remoteAddress: nil)
        approval.principal = anaPrincipal
        approval.interaction = "$approve"
        let operations = PrivacyOperations(policy: services.configuration.privacy)
        let loader = services.door.system(.demoLoader)
        let asAna = try await loader.door(at: approvedAt).open(anaPrincipal, audit: approval)
        var narrowing = PrivacyOperations.Narrowing(parameters: nil)
        narrowing.end = Timestamp(date: g.ago(10 - 90))
        let consent = try await operations.approve(taskID: Self.castilloRequest, narrowing: narrowing, guarded: asAna, now: approvedAt)

        // Dr. Ramírez breaks the glass in the emergency room, 41 days ago.
        let glassAt = Timestamp(date: g.ago(41.01))
        let ramirez = Principal(subject: "user:dr.ramirez", scopes: ScopeSet("user/*.cruds"), tokenID: "enlace-serve-demo", role: .practitioner,
                                fhirUser: "Practitioner/dr-ramirez", organization: DemoGenerator.hospital, purposeOfUse: "ETREAT")
        let glass = AuditContext(requestID: "demo-break-the-glass", method: "POST", path: "/fhir/Patient/\(ana)/$break-the-glass", query: nil, remoteAddress: nil)
        glass.principal = ramirez
        glass.interaction = "$break-the-glass"
        let task = try await loader.door(at: glassAt).breakTheGlass(patient: ana, reason: "Paciente en urgencias con hiperglucemia y deshidratación; confusa, no puede dar sus antecedentes",
                                                                   principal: ramirez, audit: glass)
        return PrivacyStory(approvedConsent: consent.id, breakTheGlassTask: task.id)
    }

    /// One transaction per patient, written through the repository (which validates every
    /// resource and indexes it), then one audit entry naming the operator that loaded it.
    func transaction(_ resources: [(JSON, String?)], patients: [String]) async throws {
        var entries: [JSON] = []
        for (r, _) in resources {
            let type = r["resourceType"]?.stringValue ?? ""
            let id = r["id"]?.stringValue ?? ""
            entries.append(.object([("resource", r), ("request", .object([("method", .string("PUT")), ("url", .string("\(type)/\(id)"))]))]))
        }
        let bundle = JSON.object([("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(entries))])
        _ = try await services.door.system(.demoLoader).load(transaction: bundle, base: services.configuration.fhirBase, patients: patients)
    }

    /// Past accesses to the demo patients' records, so *¿Quién vio mis datos?* has a story:
    /// their doctors, the pharmacy, the payer, and one emergency break-the-glass.
    func seedAccesses(_ g: DemoGenerator, story: PrivacyStory) async throws {
        struct Access { var patient: String; var who: String; var role: Principal.Role; var org: String; var purpose: String
                        var rule: String; var daysAgo: Double; var entities: [String]; var btg = false; var basis: [String] = [] }
        let ana = g.anaID, lucia = g.luciaID
        var accesses: [Access] = [
            Access(patient: ana, who: "Practitioner/dr-hernandez", role: .practitioner, org: "Organization/imss-umf-20", purpose: "TREAT",
                   rule: "urn:enlace:rule:treating-relationship", daysAgo: 62, entities: ["Observation/\(ana)-lab-0", "Condition/\(ana)-dx-0"]),
            Access(patient: ana, who: "Practitioner/dr-ramirez", role: .practitioner, org: "Organization/hospital-santa-fe", purpose: "ETREAT",
                   rule: "urn:enlace:rule:break-the-glass", daysAgo: 41,
                   entities: ["Condition/\(ana)-dx-0", "Condition/\(ana)-dx-1", "MedicationRequest/\(ana)-rx-0"], btg: true,
                   basis: ["Task/\(story.breakTheGlassTask)"]),
            Access(patient: ana, who: "Practitioner/dra-castillo", role: .practitioner, org: DemoGenerator.specialists, purpose: "TREAT",
                   rule: "Consent/\(story.approvedConsent)", daysAgo: 8,
                   entities: ["Condition/\(ana)-dx-1", "Observation/\(ana)-lab-2", "Observation/\(ana)-lab-3", "MedicationRequest/\(ana)-rx-1"]),
            Access(patient: ana, who: "Organization/farmacia-roma", role: .pharmacy, org: "Organization/farmacia-roma", purpose: "TREAT",
                   rule: "urn:enlace:rule:dispensing-pharmacy", daysAgo: 30, entities: ["MedicationRequest/\(ana)-rx-0"]),
            Access(patient: ana, who: "Organization/seguros-vida-plena", role: .payer, org: "Organization/seguros-vida-plena", purpose: "HPAYMT",
                   rule: "urn:enlace:rule:payer-beneficiary", daysAgo: 28, entities: ["Coverage/\(ana)-cov"]),
            Access(patient: ana, who: "Practitioner/dr-hernandez", role: .practitioner, org: "Organization/imss-umf-20", purpose: "TREAT",
                   rule: "urn:enlace:rule:treating-relationship", daysAgo: 9, entities: ["Observation/\(ana)-lab-1", "Encounter/\(ana)-enc-3"]),
            Access(patient: lucia, who: "Practitioner/dra-garcia", role: .practitioner, org: "Organization/hospital-santa-fe", purpose: "TREAT",
                   rule: "urn:enlace:rule:treating-relationship", daysAgo: 20, entities: ["Observation/\(lucia)-lab-0"]),
        ]
        for (i, p) in g.patientIDs.prefix(20).enumerated() where p != ana && p != lucia {
            accesses.append(Access(patient: p, who: "Practitioner/dr-hernandez", role: .practitioner, org: "Organization/imss-umf-20", purpose: "TREAT",
                                   rule: "urn:enlace:rule:treating-relationship", daysAgo: Double(3 + (i * 7) % 60), entities: ["Encounter/\(p)-enc-0"]))
        }
        for a in accesses.sorted(by: { $0.daysAgo > $1.daysAgo }) {
            let when = Timestamp(date: g.now.addingTimeInterval(-a.daysAgo * 86_400))
            let ctx = AuditContext(requestID: "demo-\(a.patient)-\(Int(a.daysAgo))", method: "GET", path: "/fhir/Patient/\(a.patient)/$everything",
                                   query: nil, remoteAddress: nil)
            let subject = a.role == .practitioner ? "user:" + a.who.split(separator: "/")[1].replacingOccurrences(of: "-", with: ".") : "user:" + a.who.split(separator: "/")[1]
            ctx.principal = Principal(subject: subject, scopes: ScopeSet("user/*.rs"), tokenID: "demo", role: a.role,
                                      fhirUser: a.role == .practitioner ? a.who : nil, organization: a.org, purposeOfUse: a.purpose)
            ctx.interaction = "operation"
            ctx.breakTheGlass = a.btg
            ctx.decidedBy(a.rule)
            for b in a.basis { ctx.decidedBy(b) }
            for e in a.entities { ctx.touched(e + "/_history/1", patients: [a.patient]) }
            _ = try await services.ledger.record(PendingAudit(recorded: when, patients: [a.patient],
                                                              bytes: services.auditBuilder.build(ctx, status: 200, recorded: when).serialized()))
        }
    }

    func createUsers(_ identity: IdentityService) async throws -> [SignIn] {
        func password() -> String {
            let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
            let bytes = randomBytes(12)
            let chars = bytes.map { alphabet[Int($0) % alphabet.count] }
            return String(chars[0..<4]) + "-" + String(chars[4..<8]) + "-" + String(chars[8..<12])
        }
        var out: [SignIn] = []
        let users: [(String, Principal.Role, String?, String?, String?, String)] = [
            ("ana", .patient, "Patient/demo-p001", nil, nil, "paciente Patient/demo-p001 (su expediente: /expediente)"),
            ("lucia", .patient, "Patient/demo-p002", nil, nil, "paciente Patient/demo-p002 (su expediente: /expediente)"),
            ("dr.hernandez", .practitioner, nil, "Practitioner/dr-hernandez", "Organization/imss-umf-20", "Dr. Juan Carlos Hernández Ruiz (medicina familiar, IMSS UMF 20)"),
            ("dra.castillo", .practitioner, nil, "Practitioner/dra-castillo", DemoGenerator.specialists,
             "Dra. Mariana Castillo Vega (cardiología, Centro de Especialidades Coyoacán): ve a Ana solo por el permiso que Ana le aprobó"),
            ("dr.aguilar", .practitioner, nil, "Practitioner/dr-aguilar", DemoGenerator.specialists,
             "Dr. Tomás Aguilar Núñez (endocrinología, Centro de Especialidades Coyoacán): su solicitud de acceso a Ana espera respuesta"),
            ("dra.morales", .practitioner, nil, "Practitioner/dra-morales", DemoGenerator.specialists,
             "Dra. Elena Morales Rivas (medicina materno-fetal, Centro de Especialidades Coyoacán): ningún paciente todavía; pide acceso por CURP o rompe el cristal en una emergencia"),
            ("dr.ramirez", .practitioner, nil, "Practitioner/dr-ramirez", DemoGenerator.hospital,
             "Dr. Alberto Ramírez Ortiz (urgencias, Hospital Santa Fe): recibe las referencias de la UMF 20 (/referencias-recibidas)"),
            ("farmacia.roma", .pharmacy, nil, nil, DemoGenerator.pharmacy, "Farmacia Roma (mostrador): surte recetas por código (/farmacia)"),
            ("privacidad", .privacyOfficer, nil, nil, nil, "Oficial de privacidad"),
            ("vidaplena", .payer, nil, nil, "Organization/seguros-vida-plena", "Seguros Vida Plena (aseguradora): reclamaciones, calidad (/reclamaciones)"),
            ("imss.pagos", .payer, nil, nil, "Organization/imss", "IMSS como pagador: reclamaciones de sus derechohabientes y la liquidación con ISSSTE (/liquidacion)"),
            ("issste.pagos", .payer, nil, nil, "Organization/issste", "ISSSTE como pagador: reclamaciones de sus derechohabientes y la liquidación con IMSS (/liquidacion)"),
        ]
        for (username, role, patient, practitioner, org, who) in users {
            let pw = password()
            _ = try await identity.addUser(username: username, role: role, password: pw, fhirUser: practitioner, patient: patient,
                                           organization: org, withTOTP: false)
            out.append(SignIn(username: username, password: pw, role: role.rawValue, who: who))
        }
        return out
    }
}
