import FHIR
import Foundation
import Storage

/// What a principal may do, decided once per request before any query runs
/// (docs/access.md). Consent (docs/consent.md) refines it at this same point.
public struct AccessDecision: Sendable {
    /// nil: may see everything the scopes allow.
    public var visibility: Visibility?
    /// Types the principal's role may read at all (nil: every type).
    public var readableTypes: Set<String>?
    /// Types the principal's role may write (nil: every type).
    public var writableTypes: Set<String>?
    /// When set, every written resource must be in the compartment of one of these patients
    /// (and nothing shared may be written unless `writeShared`).
    public var writePatients: Set<String>?
    public var writeShared: Bool
    /// May create resources with client-chosen ids (update-as-create). Only operators and
    /// services: for anyone else a missing id and a hidden id must look the same (404).
    public var updateAsCreate: Bool
    /// The rule that decided, for the audit entry (`urn:enlace:rule:…`).
    public var rule: String

    /// Every Consent, record and rule the decision rests on (each goes to `audit.decidedBy`).
    public var basis: [String] = []
    /// An active break-the-glass record was used (the audit entry is flagged, purpose ETREAT).
    public var breakTheGlass = false
    /// Patients seen only through an active break-the-glass record: an audit entry is flagged
    /// when the request touches one of them.
    public var breakTheGlassPatients: Set<String> = []
    /// Privacy Task codes (`btg-review`, `disclosure`) this principal may not write through
    /// the ordinary interactions.
    public var forbiddenTaskCodes: Set<String> = []
    /// A consent-request Task naming one of these as requester may be created for any patient
    /// (asking reveals nothing and grants nothing).
    public var consentRequesters: [String] = []
    /// Markers for the asker (e.g. a patient's right-not-to-know preference shown to clinicians),
    /// added to search bundles as an OperationOutcome.
    public var notices: [String] = []
    /// Types written by rule (the finance rule, `AccessPolicy+Finance.swift`): a write of one
    /// of these types is allowed exactly when the new version and the one it replaces satisfy
    /// the rule (instead of the `writePatients` compartment check); a delete is refused.
    public var writableByRule: [String: DataRule] = [:]

    public static let unrestricted = AccessDecision(visibility: nil, readableTypes: nil, writableTypes: nil, writePatients: nil,
                                                    writeShared: true, updateAsCreate: true, rule: "urn:enlace:rule:system-scope")
}
