import Foundation

/// Every human string of the portal, Spanish (es-MX, the default) and English. (Named
/// `PortalStrings.swift`: Swift refuses two files called `Strings.swift` in one module, and the
/// OAuth pages already have theirs.)
struct PortalStrings: Sendable {
    enum Language: String, Sendable {
        case es, en
        /// The `lang` attribute value.
        var tag: String { self == .es ? "es-MX" : "en" }
    }

    let language: Language

    /// Spanish or English by the page's language. Each domain's pages keep their strings in an
    /// extension of `PortalStrings` in their own file (`Portal/<Domain>Strings.swift`).
    func t(_ es: String, _ en: String) -> String { language == .es ? es : en }

    // frame
    var skipToContent: String { t("Saltar al contenido", "Skip to content") }
    var navLabel: String { t("Secciones", "Sections") }
    var switchLanguage: String { t("English", "Español") }
    var signOut: String { t("Salir", "Sign out") }
    var footer: String { t("Enlace · Sus datos de salud, bajo sus reglas. Todo acceso queda registrado.", "Enlace · Your health data, under your rules. Every access is recorded.") }
    var navRecord: String { t("Mi expediente", "My record") }
    var navAccess: String { t("¿Quién vio mis datos?", "Who saw my data?") }
    var navDecisions: String { t("Decisiones", "Decisions") }
    var navConsents: String { t("Mis permisos", "My permissions") }
    var navSummary: String { t("Resumen imprimible", "Printable summary") }
    var navPatients: String { t("Mis pacientes", "My patients") }
    var backHome: String { t("Volver al inicio", "Back to the start") }
    func welcome(_ user: String) -> String { t("Bienvenido(a), \(user)", "Welcome, \(user)") }
    var staffHome: String { t("Esta cuenta no tiene páginas en el portal todavía; use la API FHIR con su aplicación.", "This account has no portal pages yet; use the FHIR API with your app.") }

    // refusal
    var refusalTitle: String { t("Acceso no permitido", "Access not allowed") }
    var refusalLead: String { t("No puede ver esta información.", "You cannot see this information.") }
    var refusalWhy: String { t("O no tiene una relación de atención con esta persona, o ella retiró su permiso, o el registro no existe. Este intento quedó registrado.", "Either you have no care relationship with this person, or they withdrew their permission, or the record does not exist. This attempt was recorded.") }

    // sign-in
    var signInTitle: String { t("Iniciar sesión", "Sign in") }
    var signInLead: String { t("Entre para ver su expediente, quién lo consultó y sus permisos.", "Sign in to see your record, who looked at it and your permissions.") }
    var username: String { t("Usuario", "Username") }
    var password: String { t("Contraseña", "Password") }
    var totp: String { t("Código de un solo uso (si lo tiene activado)", "One-time code (if you enabled it)") }
    var totpHint: String { t("Seis dígitos de su app autenticadora. Obligatorio para el personal de salud.", "Six digits from your authenticator app. Required for health staff.") }
    var signIn: String { t("Entrar", "Sign in") }
    var invalidCredentials: String { t("Usuario, contraseña o código incorrectos.", "Wrong username, password or code.") }
    var locked: String { t("Demasiados intentos fallidos. Espere 15 minutos e intente de nuevo.", "Too many failed attempts. Wait 15 minutes and try again.") }
    var totpRequired: String { t("Escriba el código de un solo uso de su app autenticadora.", "Enter the one-time code from your authenticator app.") }
    var totpNotEnrolled: String { t("Su cuenta necesita un segundo factor (TOTP) y no tiene uno. Pida a un operador que lo active.", "Your account needs a second factor (TOTP) and has none. Ask an operator to enrol one.") }
    var formExpired: String { t("El formulario expiró. Intente de nuevo.", "The form expired. Please try again.") }

    // record
    var timeline: String { t("Línea de tiempo", "Timeline") }
    var filterLabel: String { t("Filtrar por tipo", "Filter by type") }
    var all: String { t("Todo", "All") }
    func timelineCount(_ n: Int) -> String { t(n == 1 ? "1 registro, de todas las instituciones." : "\(n) registros, de todas las instituciones.", n == 1 ? "1 entry, from every institution." : "\(n) entries, from every institution.") }
    func timelineWindow(_ n: Int) -> String {
        t("\(n) registros en esta página, de todas las instituciones, los más recientes primero.",
          "\(n) entries on this page, from every institution, newest first.")
    }
    var showMore: String { t("Ver más", "Show more") }
    var newestFirst: String { t("Volver a los más recientes", "Back to the newest") }
    var pagesLabel: String { t("Páginas del expediente", "Pages of the record") }
    var seeAllInRecord: String { t("Ver todos en el expediente", "See all in the record") }
    var emptyTimeline: String { t("Todavía no hay registros.", "There are no entries yet.") }
    var curp: String { "CURP" }
    var birthDate: String { t("Fecha de nacimiento", "Date of birth") }
    var sex: String { t("Sexo", "Sex") }
    var phone: String { t("Teléfono", "Phone") }
    var address: String { t("Domicilio", "Address") }
    func gender(_ g: String?) -> String {
        switch g {
        case "female": return t("Mujer", "Female")
        case "male": return t("Hombre", "Male")
        case "other": return t("Otro", "Other")
        case "unknown": return t("Desconocido", "Unknown")
        default: return "—"
        }
    }
    var reason: String { t("Motivo", "Reason") }
    var status: String { t("Estado", "Status") }
    var value: String { t("Resultado", "Result") }
    var referenceRange: String { t("Rango de referencia", "Reference range") }
    var outOfRange: String { t("Fuera de rango", "Out of range") }
    var dose: String { t("Dosis", "Dose") }
    var source: String { t("Origen", "Source") }
    var yourRights: String { t("Sus derechos ARCO: acceso", "Your ARCO rights: access") }
    var downloadRecord: String { t("Descargar mi expediente completo (FHIR JSON)", "Download my whole record (FHIR JSON)") }
    var printableSummary: String { t("Ver resumen imprimible", "See a printable summary") }
    var print: String { t("Imprimir", "Print") }
    var summaryTitle: String { t("Resumen de mi expediente", "Summary of my record") }
    var conditions: String { t("Diagnósticos", "Diagnoses") }
    var medications: String { t("Medicamentos", "Medications") }
    var allergies: String { t("Alergias", "Allergies") }
    var immunizations: String { t("Vacunas", "Immunizations") }
    var latestResults: String { t("Resultados recientes", "Recent results") }
    func summaryGenerated(_ when: String) -> String { t("Generado el \(when) (UTC) desde Enlace.", "Generated on \(when) (UTC) from Enlace.") }

    func typeName(_ type: String) -> String {
        switch type {
        case "Encounter": return t("Consultas", "Visits")
        case "Condition": return t("Diagnósticos", "Diagnoses")
        case "Observation": return t("Resultados", "Results")
        case "DiagnosticReport": return t("Informes", "Reports")
        case "MedicationRequest": return t("Recetas", "Prescriptions")
        case "MedicationStatement": return t("Medicamentos", "Medications")
        case "MedicationDispense": return t("Surtidos", "Dispenses")
        case "Immunization": return t("Vacunas", "Immunizations")
        case "Procedure": return t("Procedimientos", "Procedures")
        case "DocumentReference": return t("Documentos", "Documents")
        case "AllergyIntolerance": return t("Alergias", "Allergies")
        case "CarePlan": return t("Planes de cuidado", "Care plans")
        case "CareTeam": return t("Equipo de atención", "Care team")
        case "Patient": return t("Datos personales", "Personal details")
        case "Consent": return t("Permisos", "Permissions")
        case "Coverage": return t("Cobertura", "Coverage")
        case "Provenance": return t("Procedencia", "Provenance")
        default: return resourceTypeName(type) ?? type
        }
    }

    /// A resource's `status` in the page's language (`codeName`, CodeStrings.swift).
    func statusName(_ s: String) -> String { codeName(s) ?? s }

    /// `2026-03-04T10:00:00Z` → `04/03/2026` (es) or `2026-03-04` (en).
    func date(_ fhir: String) -> String {
        let d = String(fhir.prefix(10))
        guard d.count == 10, language == .es else { return d }
        let p = d.split(separator: "-")
        return p.count == 3 ? "\(p[2])/\(p[1])/\(p[0])" : d
    }

    func dateTime(_ fhir: String) -> String {
        guard fhir.count >= 16 else { return date(fhir) }
        let time = fhir.dropFirst(11).prefix(5)
        return "\(date(fhir)) \(time) UTC"
    }

    // access log
    var accessLead: String { t("Cada vez que alguien consulta o cambia sus datos queda una entrada en la bitácora de auditoría de Enlace, que no se puede alterar sin que se note.", "Every time someone reads or changes your data, an entry is added to Enlace's audit log, which cannot be altered without it showing.") }
    func treeHeadNote(_ size: Int, _ when: String, _ ok: Bool) -> String {
        ok ? t("Comprobado contra la raíz firmada de la bitácora: \(size) entradas, firmada el \(dateTime(when)).", "Checked against the log's signed root: \(size) entries, signed on \(dateTime(when)).")
           : t("La firma de la raíz de la bitácora no pudo comprobarse.", "The signature of the log's root could not be checked.")
    }
    func ownHidden(_ n: Int) -> String {
        n == 1 ? t("Se oculta 1 consulta hecha por usted.", "1 access made by you is hidden.")
               : t("Se ocultan \(n) consultas hechas por usted.", "\(n) accesses made by you are hidden.")
    }
    func series(_ n: Int, _ first: String, _ last: String) -> String {
        t("Serie de \(n) lecturas del \(first) al \(last); se muestra la más reciente.", "Series of \(n) readings from \(first) to \(last); the latest is shown.")
    }
    var showOwn: String { t("Mostrarlas", "Show them") }
    var noAccesses: String { t("Nadie más ha consultado sus datos.", "Nobody else has looked at your data.") }
    var you: String { t("Usted", "You") }
    var verified: String { t("verificado", "verified") }
    var notVerified: String { t("sin verificar", "not verified") }
    func verifiedTooltip(_ index: Int) -> String {
        t("Se comprobó en el servidor que la entrada n.º \(index) está incluida en la bitácora: su prueba de inclusión Merkle (RFC 9162) lleva a la raíz del último encabezado de árbol firmado, cuya firma también se comprobó.",
          "The server checked that entry #\(index) is included in the log: its Merkle inclusion proof (RFC 9162) leads to the root of the latest signed tree head, whose signature was checked too.")
    }
    var verifiedQuestion: String { t("¿Qué significa «✓ verificado»?", "What does “✓ verified” mean?") }
    var verifiedExplained: [String] {
        language == .es ? [
            "Cada entrada de esta bitácora es una hoja de un árbol de Merkle (RFC 9162, el mismo método de Certificate Transparency). El servidor firma con su clave la raíz del árbol: el «encabezado de árbol firmado».",
            "Al mostrar esta página, el servidor comprobó la firma de ese encabezado y, para cada entrada marcada «✓ verificado», su prueba de inclusión: la cadena de hashes que lleva de la entrada a la raíz firmada. Si alguien hubiera borrado o cambiado la entrada, la prueba no coincidiría.",
            "«sin verificar» significa que la entrada aún no está bajo una raíz firmada o que su prueba no coincidió. Esta comprobación la hace este mismo servidor; un auditor independiente puede repetirla sobre toda la bitácora con «enlace audit verify».",
        ] : [
            "Each entry of this log is a leaf of a Merkle tree (RFC 9162, the method of Certificate Transparency). The server signs the tree's root with its key: the “signed tree head”.",
            "When showing this page, the server checked that head's signature and, for each entry marked “✓ verified”, its inclusion proof: the chain of hashes that leads from the entry to the signed root. Had anyone deleted or changed the entry, the proof would not match.",
            "“not verified” means the entry is not under a signed root yet, or its proof did not match. This check is made by this same server; an independent auditor can repeat it over the whole log with “enlace audit verify”.",
        ]
    }
    var notVerifiedTooltip: String { t("Esta entrada aún no está bajo una raíz firmada o su prueba no coincidió.", "This entry is not under a signed root yet, or its proof did not match.") }
    var breakTheGlass: String { t("Acceso de emergencia (romper el cristal)", "Emergency access (break the glass)") }
    // the privacy officer's review queue
    var navReviews: String { t("Revisiones", "Reviews") }
    var reviewsLead: String {
        t("Cada acceso de emergencia queda aquí hasta que usted lo revise: márquelo como justificado, o revóquelo y el acceso termina de inmediato. El paciente ya fue avisado.",
          "Every emergency access waits here until you review it: mark it justified, or revoke it and the access ends at once. The patient has already been notified.")
    }
    var reviewsPending: String { t("Por revisar", "To review") }
    var reviewsDone: String { t("Revisados recientemente", "Recently reviewed") }
    var noPendingReviews: String { t("No hay accesos de emergencia por revisar.", "No emergency access is waiting for review.") }
    var noReviews: String { t("Todavía no hay revisiones.", "No reviews yet.") }
    func reviewOf(_ who: String) -> String { t("Acceso de emergencia de \(who)", "Emergency access by \(who)") }
    var reviewPatient: String { t("Paciente", "Patient") }
    var reviewStatus: String { t("Resultado", "Outcome") }
    var reviewStatusJustified: String { t("Justificado", "Justified") }
    var reviewStatusRevoked: String { t("Revocado", "Revoked") }
    var reviewNote: String { t("Nota de la revisión (opcional)", "Review note (optional)") }
    var reviewJustify: String { t("Marcar como justificado", "Mark as justified") }
    var reviewRevoke: String { t("Revocar el acceso", "Revoke the access") }
    var reviewRevokeConfirm: String { t("¿Revocar este acceso de emergencia? Termina de inmediato.", "Revoke this emergency access? It ends at once.") }
    var reviewSaved: String { t("Revisión guardada: el acceso quedó como justificado.", "Review saved: the access is marked justified.") }
    var reviewRevoked: String { t("Acceso revocado: terminó de inmediato.", "Access revoked: it ended at once.") }
    var roleLabel: String { t("Rol", "Role") }
    var organization: String { t("Organización", "Organization") }
    var whatLabel: String { t("Qué", "What") }
    var why: String { t("Para qué", "Why") }
    var rule: String { t("Con qué regla o permiso", "Under which rule or permission") }
    var result: String { t("Resultado", "Result") }
    var refused: String { t("negado", "refused") }
    func describeRequest(_ outcome: String) -> String {
        // "HTTP 200 GET /path" → the path
        let parts = outcome.split(separator: " ")
        return parts.count >= 4 ? t("Consulta de \(parts[3])", "Request to \(parts[3])") : outcome
    }
    func roleName(_ r: String) -> String {
        switch r {
        case "practitioner": return t("Personal de salud", "Health professional")
        case "patient": return t("Paciente", "Patient")
        case "related-person": return t("Familiar o representante", "Relative or representative")
        case "pharmacy": return t("Farmacia", "Pharmacy")
        case "payer": return t("Aseguradora", "Payer")
        case "privacy-officer": return t("Oficial de privacidad", "Privacy officer")
        case "auditor": return t("Auditor", "Auditor")
        case "operator": return t("Operador de la plataforma", "Platform operator")
        case "org-admin": return t("Administración de la institución", "Organization administrator")
        case "service": return t("Servicio automatizado", "Automated service")
        default: return r
        }
    }
    func purposeName(_ code: String?) -> String {
        switch code {
        case "TREAT": return t("Atención médica", "Treatment")
        case "ETREAT": return t("Atención de emergencia", "Emergency treatment")
        case "HPAYMT": return t("Pago de servicios", "Payment")
        case "HOPERAT": return t("Operación del servicio", "Operations")
        case "PATRQT": return t("A petición del paciente", "Patient request")
        case nil: return t("Atención médica (no declarado)", "Care (not stated)")
        default: return code.flatMap(purposeCodeName) ?? code ?? ""
        }
    }
    func ruleName(_ policy: String) -> String {
        switch policy {
        case "urn:enlace:rule:treating-relationship": return t("Relación de atención (equipo o consulta)", "Care relationship (team or visit)")
        case "urn:enlace:rule:own-record": return t("Su propio expediente", "Your own record")
        case "urn:enlace:rule:own-access-log": return t("Su propia bitácora", "Your own access log")
        case "urn:enlace:rule:acts-for": return t("Representante autorizado", "Authorised representative")
        case "urn:enlace:rule:break-the-glass": return t("Emergencia: romper el cristal", "Emergency: break the glass")
        case "urn:enlace:rule:no-relationship": return t("Sin relación de atención", "No care relationship")
        case "urn:enlace:rule:patient-consent": return t("Permiso del paciente", "The patient's permission")
        case "urn:enlace:rule:dispensing-pharmacy": return t("Farmacia que surte la receta", "Pharmacy filling the prescription")
        case "urn:enlace:rule:payer-beneficiary": return t("Aseguradora del beneficiario", "Beneficiary's payer")
        case "urn:enlace:rule:portal-sign-in": return t("Inicio de sesión", "Sign-in")
        case "urn:enlace:rule:portal-curp-lookup": return t("Solicitud de acceso por CURP", "Access request by CURP")
        case "urn:enlace:rule:demo-load": return t("Carga de datos de demostración", "Loading of demo data")
        default:
            if policy.hasPrefix("Consent/") { return t("Consentimiento \(policy)", "Consent \(policy)") }
            if policy.hasPrefix("Task/") { return t("Registro de acceso de emergencia \(policy)", "Emergency access record \(policy)") }
            return policy
        }
    }

    // decisions
    var decisionsLead: String { t("Quién registró o cambió cada dato de su expediente, y en nombre de qué institución: quién responde por cada decisión.", "Who recorded or changed each item of your record, and on behalf of which institution: who answers for each decision.") }
    var noDecisions: String { t("Todavía no hay decisiones registradas.", "No decisions recorded yet.") }
    var recorded: String { t("Registro", "Recorded") }
    var author: String { t("Autor", "Author") }
    func agentRole(_ r: String) -> String {
        switch r.lowercased() {
        case "author", "autor": return t("Autor", "Author")
        case "enterer", "capturista": return t("Capturó", "Entered by")
        case "verifier": return t("Verificó", "Verified by")
        case "performer": return t("Realizó", "Performed by")
        case "attester": return t("Dio fe", "Attested by")
        case "informant": return t("Informó", "Informant")
        case "custodian": return t("Custodio", "Custodian")
        case "assembler": return t("Integró", "Assembled by")
        case "composer": return t("Redactó", "Composed by")
        case "legal": return t("Autenticó legalmente", "Legal authenticator")
        default: return r
        }
    }
    func activityName(_ code: String) -> String {
        switch code.uppercased() {
        case "CREATE": return t("Registro", "Created")
        case "UPDATE": return t("Modificación", "Updated")
        case "DELETE": return t("Eliminación", "Deleted")
        default: return activityCodeName(code) ?? code
        }
    }
    var onBehalfOf: String { t("En nombre de", "On behalf of") }
    var records: String { t("Registros", "Records") }

    // consents
    var consentsLead: String { t("Aquí decide quién más puede ver sus datos: responda las solicitudes de acceso y retire cuando quiera los permisos que ya dio. Cada cambio se aplica desde la siguiente consulta.", "Here you decide who else may see your data: answer access requests, and withdraw the permissions you gave whenever you want. Every change applies from the next access.") }
    var noConsents: String { t("No tiene permisos activos.", "You have no active permissions.") }
    var consentScope: String { t("Alcance", "Scope") }
    var consentWho: String { t("A quién", "To whom") }
    var since: String { t("Desde", "Since") }
    var until: String { t("Hasta", "Until") }
    var revoke: String { t("Retirar este permiso", "Withdraw this permission") }
    var revokeConfirm: String { t("¿Retirar este permiso? Quien lo usaba dejará de ver sus datos por esta vía.", "Withdraw this permission? Whoever used it will stop seeing your data this way.") }
    var revoked: String { t("Permiso retirado.", "Permission withdrawn.") }
    var activeConsents: String { t("Permisos vigentes", "Active permissions") }
    var consentDefaultTitle: String { t("Acceso a su expediente", "Access to your record") }
    var consentWhat: String { t("Qué información", "What information") }
    var generalRecord: String { t("Su expediente general (sin información sensible)", "Your general record (no sensitive information)") }
    /// A Consent or request limited by `class` / `dataPeriod` (docs/consent.md, *Which part of the record*).
    func onlyTypes(_ names: [String]) -> String { t("Solo: \(names.joined(separator: ", "))", "Only: \(names.joined(separator: ", "))") }
    func dataBetween(_ start: String?, _ end: String?) -> String {
        switch (start, end) {
        case let (s?, e?): return t("Solo datos fechados del \(date(s)) al \(date(e))", "Only data dated from \(date(s)) to \(date(e))")
        case let (s?, nil): return t("Solo datos fechados desde el \(date(s))", "Only data dated from \(date(s))")
        case let (nil, e?): return t("Solo datos fechados hasta el \(date(e))", "Only data dated up to \(date(e))")
        default: return ""
        }
    }

    func generalRecordAnd(_ categories: [String]) -> String {
        t("Su expediente general y además: \(categories.joined(separator: ", "))", "Your general record and also: \(categories.joined(separator: ", "))")
    }
    /// Sensitive categories (v3 ActCode labels of docs/consent.md), in plain words.
    func categoryName(_ code: String) -> String {
        switch code {
        case "MH": return t("Salud mental", "Mental health")
        case "PSY": return t("Atención psiquiátrica", "Psychiatric care")
        case "HIV": return t("VIH", "HIV")
        case "STD": return t("Infecciones de transmisión sexual", "Sexually transmitted infections")
        case "SEX": return t("Salud sexual y reproductiva", "Sexual and reproductive health")
        case "SDV": return t("Violencia sexual o doméstica", "Sexual or domestic violence")
        case "GDIS": return t("Información genética", "Genetic information")
        case "ETH": return t("Consumo de alcohol o drogas", "Alcohol or drug use")
        case "SUD": return t("Trastornos por consumo de sustancias", "Substance use disorders")
        default: return code
        }
    }

    // access requests
    var requestsTitle: String { t("Solicitudes de acceso pendientes", "Pending access requests") }
    var requestsLead: String { t("Estas personas piden ver su expediente. No se comparte nada hasta que usted lo apruebe. Puede aprobar menos de lo que piden (menos tiempo o menos categorías) o rechazar.", "These people ask to see your record. Nothing is shared until you approve. You can approve less than they ask (a shorter time or fewer categories) or deny.") }
    var noRequests: String { t("No tiene solicitudes pendientes.", "You have no pending requests.") }
    var requestedBy: String { t("Quién pide", "Who asks") }
    var requestedOn: String { t("Fecha de la solicitud", "Asked on") }
    var howLong: String { t("Por cuánto tiempo", "For how long") }
    func days(_ n: Int) -> String { t(n == 1 ? "1 día" : "\(n) días", n == 1 ? "1 day" : "\(n) days") }
    func grantFor(_ days: String, _ end: String) -> String {
        t("\(days): desde que usted apruebe hasta el \(end) aprox.; después vence solo.", "\(days): from your approval until about \(end); then it expires by itself.")
    }
    func grantUntil(_ end: String) -> String { t("Hasta el \(end); después vence solo.", "Until \(end); then it expires by itself.") }
    var narrowTitle: String { t("Aprobar con menos (opcional)", "Approve less (optional)") }
    var durationChoice: String { t("Duración del permiso", "How long the permission lasts") }
    func asRequested(_ days: String) -> String { t("Lo que pide: \(days)", "As asked: \(days)") }
    var categoriesChoice: String { t("Información sensible que comparte (desmarque la que no quiera compartir)", "Sensitive information you share (untick what you don't want to share)") }
    var approve: String { t("Aprobar", "Approve") }
    var deny: String { t("Rechazar", "Deny") }
    var denyConfirm: String { t("¿Rechazar esta solicitud? No se compartirá nada.", "Deny this request? Nothing will be shared.") }
    var approved: String { t("Solicitud aprobada. El permiso aparece en «Permisos vigentes»; puede retirarlo cuando quiera.", "Request approved. The permission is listed under “Active permissions”; you can withdraw it at any time.") }
    var denied: String { t("Solicitud rechazada. No se compartió nada.", "Request denied. Nothing was shared.") }
    var alreadyAnswered: String { t("Esa solicitud ya había sido respondida; no se cambió nada.", "That request had already been answered; nothing was changed.") }

    // clinicians
    var searchPatients: String { t("Buscar por nombre o CURP", "Search by name or CURP") }
    var search: String { t("Buscar", "Search") }
    func patientsLead(_ n: Int) -> String { t("\(n) pacientes cuyo expediente puede ver: por una relación de atención o porque el paciente le dio permiso.", "\(n) patients whose record you may see: through a care relationship or because the patient gave you permission.") }
    var noPatients: String { t("No hay pacientes con relación de atención.", "No patients with a care relationship.") }

    // clinicians: asking for access by CURP
    var requestAccess: String { t("Solicitar acceso", "Request access") }
    var requestAccessLink: String { t("Solicitar acceso a un paciente por su CURP", "Request access to a patient by their CURP") }
    var requestAccessLead: String { t("¿Necesita ver el expediente de alguien que no es su paciente? Pídale permiso: la persona recibe su solicitud en «Mis permisos» y decide si lo aprueba, con menos tiempo o información, o si lo rechaza. Pedir no da acceso a nada.", "Need to see the record of someone who is not your patient? Ask them: they receive your request under “My permissions” and decide whether to approve it, with less time or information, or deny it. Asking grants nothing.") }
    var curpLabel: String { t("CURP del paciente", "Patient's CURP") }
    var curpHint: String { t("Los 18 caracteres, como aparecen en su credencial, acta de nacimiento o INE. Mayúsculas o minúsculas, da igual.", "All 18 characters, as on their ID card, birth certificate or INE. Upper or lower case.") }
    var curpInvalid: String { t("Esa CURP no es válida: debe tener 18 caracteres (4 letras, 6 dígitos de la fecha de nacimiento, H, M o X, 5 letras, 1 letra o dígito y el dígito verificador). Revísela e intente de nuevo.", "That CURP is not valid: it must have 18 characters (4 letters, 6 digits of the date of birth, H, M or X, 5 letters, 1 letter or digit and the check digit). Check it and try again.") }
    var purposeLabel: String { t("Para qué", "Purpose") }
    var categoriesAsk: String { t("Información sensible que también pide (opcional)", "Sensitive information you also ask for (optional)") }
    var categoriesAskHint: String { t("Sin marcar nada pide solo el expediente general. La información sensible necesita el permiso expreso del paciente.", "Ticking nothing asks for the general record only. Sensitive information needs the patient's express permission.") }
    var durationAsk: String { t("Por cuánto tiempo", "For how long") }
    var reasonAsk: String { t("Motivo (el paciente lo leerá)", "Reason (the patient will read it)") }
    var reasonAskHint: String { t("Breve y claro, por ejemplo: «Valoración por su embarazo, enviada por su ginecóloga».", "Short and clear, for example: “Assessment of your pregnancy, referred by your gynaecologist”.") }
    var reasonRequired: String { t("Escriba el motivo de su solicitud (hasta 300 caracteres).", "Write the reason for your request (up to 300 characters).") }
    var sendRequest: String { t("Enviar solicitud", "Send request") }
    var requestSent: String { t("Si la CURP corresponde a un paciente registrado, recibirá su solicitud. Cuando la apruebe, aparecerá en «Mis pacientes».", "If the CURP belongs to a registered patient, they will receive your request. Once they approve it, they will appear under “My patients”.") }
    var requestPrivacyNote: String { t("Por privacidad, esta página responde lo mismo exista o no la CURP: no revela quién está registrado en Enlace.", "For privacy, this page answers the same whether or not the CURP exists: it does not reveal who is registered in Enlace.") }
    var formErrors: String { t("Revise el formulario", "Please check the form") }

    // clinicians: break the glass
    var refusalOptions: String { t("¿Qué puede hacer?", "What can you do?") }
    var refusalAsk: String { t("Pida permiso a la persona con su CURP: ella decide si lo aprueba.", "Ask the person for permission with their CURP: they decide whether to approve.") }
    var btgLead: String { t("Solo en una emergencia, cuando la persona no puede dar su permiso y la atención no puede esperar.", "Only in an emergency, when the person cannot give permission and care cannot wait.") }
    var btgConsequences: [String] {
        language == .es ? [
            "Verá todo el expediente, incluida la información sensible, durante 4 horas; después el acceso termina solo.",
            "Todo lo que consulte queda en la bitácora de auditoría, marcado como acceso de emergencia.",
            "El paciente recibe un aviso con su nombre, la hora y el motivo que escriba.",
            "La oficina de privacidad revisa cada acceso de emergencia y puede revocarlo.",
        ] : [
            "You will see the whole record, sensitive information included, for 4 hours; then the access ends by itself.",
            "Everything you look at is recorded in the audit log, flagged as emergency access.",
            "The patient is notified with your name, the time and the reason you write.",
            "The privacy office reviews every emergency access and may revoke it.",
        ]
    }
    var btgReason: String { t("Motivo de la emergencia (al menos 10 caracteres)", "Reason for the emergency (at least 10 characters)") }
    var btgReasonHint: String { t("Por ejemplo: «Paciente inconsciente en urgencias, sin acompañante».", "For example: “Unconscious patient in the emergency room, unaccompanied”.") }
    var btgReasonTooShort: String { t("Escriba el motivo de la emergencia: al menos 10 caracteres. No se abrió el expediente.", "Write the reason for the emergency: at least 10 characters. The record was not opened.") }
    var btgContinue: String { t("Continuar", "Continue") }
    var btgConfirmTitle: String { t("Confirme el acceso de emergencia", "Confirm the emergency access") }
    var btgConfirmLead: String { t("Está por abrir este expediente como acceso de emergencia, con este motivo:", "You are about to open this record as an emergency access, with this reason:") }
    var btgConfirm: String { t("Confirmo: es una emergencia", "I confirm: this is an emergency") }
    var cancel: String { t("Cancelar", "Cancel") }
    func btgActive(_ until: String) -> String { t("Acceso de emergencia activo hasta el \(until). Queda registrado, el paciente fue avisado y la oficina de privacidad lo revisará.", "Emergency access active until \(until). It is recorded, the patient was notified and the privacy office will review it.") }

    // patients: break-the-glass notifications
    var btgNoticesTitle: String { t("Accesos de emergencia a su expediente", "Emergency access to your record") }
    var btgNoticesLead: String { t("Alguien abrió su expediente en una emergencia («romper el cristal»). La oficina de privacidad revisa cada caso.", "Someone opened your record in an emergency (“break the glass”). The privacy office reviews every case.") }
    var btgWho: String { t("Quién", "Who") }
    var btgWhen: String { t("Cuándo", "When") }
    var btgUntil: String { t("Acceso hasta", "Access until") }
    var btgReview: String { t("Revisión", "Review") }
    func btgReviewState(_ status: String) -> String {
        switch status {
        case "completed": return t("revisado: justificado", "reviewed: justified")
        case "cancelled": return t("revisado: acceso revocado", "reviewed: access revoked")
        default: return t("pendiente de revisión por la oficina de privacidad", "waiting for review by the privacy office")
        }
    }
    var btgSeeEntry: String { t("Ver la entrada en la bitácora", "See the entry in the log") }
}
