import Trust

/// The human strings of the sign-in and approval pages, Spanish (default) and English.
struct Strings: Sendable {
    enum Language: String, Sendable { case es, en }
    let language: Language

    /// `ui_locales`/`lang` first, then `Accept-Language`; Spanish unless English is asked for.
    static func negotiate(parameter: String?, acceptLanguage: String?) -> Language {
        if let p = parameter?.lowercased() {
            for tag in p.split(whereSeparator: { $0 == " " || $0 == "," }) {
                if tag.hasPrefix("es") { return .es }
                if tag.hasPrefix("en") { return .en }
            }
        }
        if let a = acceptLanguage?.lowercased().trimmingCharacters(in: .whitespaces), a.hasPrefix("en") { return .en }
        return .es
    }

    private func t(_ es: String, _ en: String) -> String { language == .es ? es : en }

    var signInTitle: String { t("Iniciar sesión en Enlace", "Sign in to Enlace") }
    func signInLead(_ app: String) -> String { t("La aplicación «\(app)» quiere acceder a sus datos de salud. Primero confirme quién es.", "The app “\(app)” wants to access your health data. First, confirm who you are.") }
    var username: String { t("Usuario", "Username") }
    var password: String { t("Contraseña", "Password") }
    var totp: String { t("Código de un solo uso (app autenticadora)", "One-time code (authenticator app)") }
    var totpHint: String { t("Obligatorio para el personal de salud y para quien lo haya activado.", "Required for staff and for anyone who enabled it.") }
    var signIn: String { t("Entrar", "Sign in") }
    var invalidCredentials: String { t("Usuario, contraseña o código incorrectos.", "Wrong username, password or code.") }
    var locked: String { t("Demasiados intentos fallidos. Espere 15 minutos e intente de nuevo.", "Too many failed attempts. Wait 15 minutes and try again.") }
    var totpRequired: String { t("Escriba el código de un solo uso de su app autenticadora.", "Enter the one-time code from your authenticator app.") }
    var totpNotEnrolled: String { t("Su cuenta necesita un segundo factor (TOTP) y no tiene uno. Pida a un operador que lo active.", "Your account needs a second factor (TOTP) and has none. Ask an operator to enrol one.") }
    var sessionExpired: String { t("La sesión expiró o no es válida. Vuelva a la aplicación e inicie de nuevo.", "The session expired or is not valid. Go back to the app and start again.") }
    var approveTitle: String { t("Autorizar acceso", "Authorize access") }
    func approveLead(_ app: String, _ user: String) -> String { t("«\(app)» pide lo siguiente en nombre de \(user):", "“\(app)” asks for the following on behalf of \(user):") }
    var approve: String { t("Permitir", "Allow") }
    var deny: String { t("Rechazar", "Deny") }
    var patientChoice: String { t("Paciente (Patient/ID) con quien usará la aplicación", "Patient (Patient/ID) you will use the app with") }
    var patientRequired: String { t("Elija un paciente válido (Patient/ID).", "Choose a valid patient (Patient/ID).") }
    var revokeNote: String { t("Puede retirar este permiso en cualquier momento. Todo acceso queda registrado.", "You can withdraw this permission at any time. Every access is recorded.") }
    var errorTitle: String { t("No se puede continuar", "Cannot continue") }
    var unknownClient: String { t("La aplicación no está registrada en este servidor.", "The app is not registered on this server.") }
    var badRedirect: String { t("La dirección de retorno (redirect_uri) no coincide exactamente con la registrada para la aplicación.", "The return address (redirect_uri) does not exactly match the one registered for the app.") }

    /// A human description of one scope.
    func describe(_ scope: String) -> String {
        switch scope {
        case "openid": return t("Confirmar su identidad a la aplicación", "Confirm your identity to the app")
        case "fhirUser": return t("Saber qué registro FHIR le representa (paciente, profesional…)", "Know which FHIR record represents you (patient, practitioner…)")
        case "profile": return t("Ver su perfil básico", "See your basic profile")
        case "launch/patient": return t("Saber con qué paciente se usa la aplicación", "Know which patient the app is used with")
        case "launch": return t("Recibir el contexto de lanzamiento", "Receive the launch context")
        case "offline_access": return t("Seguir accediendo cuando usted no esté conectado (hasta que retire el permiso)", "Keep access while you are offline (until you withdraw it)")
        case "online_access": return t("Seguir accediendo mientras usted esté conectado", "Keep access while you are online")
        default: break
        }
        let set = ScopeSet(scope)
        guard let s = set.scopes.first else { return t("Permiso no reconocido: ", "Unrecognised permission: ") + scope }
        let verbs: [(Character, String, String)] = [("c", "crear", "create"), ("r", "leer", "read"), ("u", "modificar", "update"),
                                                    ("d", "borrar", "delete"), ("s", "buscar", "search")]
        let actions = verbs.filter { s.permissions.contains($0.0) }.map { language == .es ? $0.1 : $0.2 }
        let verbText: String
        if actions.count <= 1 {
            verbText = actions.first ?? ""
        } else {
            verbText = actions.dropLast().joined(separator: ", ") + t(" y ", " and ") + actions.last!
        }
        let what = s.type == "*" ? t("todos los tipos de datos", "all kinds of data") : t("datos de tipo \(s.type)", "\(s.type) data")
        let whose: String
        switch s.context {
        case .patient: whose = t("del paciente en contexto", "of the patient in context")
        case .user: whose = t("a los que usted tiene acceso", "that you can access")
        case .system: whose = t("de todo el sistema", "across the whole system")
        }
        let sentence = "\(verbText) \(what) \(whose)"
        return sentence.prefix(1).uppercased() + sentence.dropFirst()
    }
}
