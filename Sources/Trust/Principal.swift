/// Who is asking: the authenticated subject of a request, its role, its context and what its
/// token's scopes allow. Built from a verified access token; every access decision reads it.
public struct Principal: Sendable, Equatable {
    /// The people and services Enlace knows (docs/access.md).
    public enum Role: String, Sendable, CaseIterable {
        case patient
        /// Acts for patients (parent of a minor, caregiver): `actsFor`.
        case relatedPerson = "related-person"
        case practitioner
        case pharmacy
        case payer
        case organizationAdmin = "org-admin"
        case privacyOfficer = "privacy-officer"
        case auditor
        case platformOperator = "operator"
        /// A backend service (client credentials).
        case service
    }

    /// The token's `sub` (e.g. `operator`, `user:ana`, `client:app`).
    public var subject: String
    public var scopes: ScopeSet
    /// The token's `jti`, so the audit log can tie a request to the token that made it.
    public var tokenID: String
    /// nil for operator tokens made with `enlace token` without `--user` (treated as platform operator).
    public var role: Role?
    /// The FHIR resource that is the user (`Patient/1`, `Practitioner/7`, `RelatedPerson/3`).
    public var fhirUser: String?
    /// Patient in context: the patient user themself, or the SMART launch patient.
    public var patient: String?
    /// Patients a related person acts for.
    public var actsFor: [String]
    /// The organization the user works for (`Organization/imss-umf-10`).
    public var organization: String?
    /// The SMART client the token was issued to.
    public var clientID: String?
    /// A purpose of use asserted for this request (v3 PurposeOfUse code, e.g. `TREAT`, `ETREAT`).
    public var purposeOfUse: String?

    public init(subject: String, scopes: ScopeSet, tokenID: String, role: Role? = nil, fhirUser: String? = nil,
                patient: String? = nil, actsFor: [String] = [], organization: String? = nil, clientID: String? = nil,
                purposeOfUse: String? = nil) {
        self.subject = subject
        self.scopes = scopes
        self.tokenID = tokenID
        self.role = role
        self.fhirUser = fhirUser
        self.patient = patient
        self.actsFor = actsFor
        self.organization = organization
        self.clientID = clientID
        self.purposeOfUse = purposeOfUse
    }

    /// The role decisions use: operator tokens without a role are platform operators.
    public var effectiveRole: Role { role ?? .platformOperator }
}
