import FHIR
import Foundation
import Storage

/// The default privacy policy of Enlace, following Mexican law (LFPDPPP: health data is
/// sensitive and needs express consent; NOM-004-SSA3-2012 and NOM-024-SSA3-2012 on the clinical
/// record), written down as a table in `docs/privacy-policy.md`. Every value is configurable.
///
/// `decide(_:)` is the pure function behind every row of that table; `AccessPolicy.decide`
/// asks it for each patient and category, and the decision-table test asks it for each row.
public struct PrivacyPolicy: Sendable, Equatable {
    /// Sensitive categories (v3 ActCode sensitivity labels) that need express consent even for
    /// treatment: mental health, HIV, other STIs, sexual and reproductive health, genetics,
    /// substance use.
    public var sensitiveLabels: [String] = ["MH", "PSY", "HIV", "STD", "SEX", "SDV", "GDIS", "ETH", "SUD"]
    /// Purposes the treating relationship covers by itself.
    public var treatmentPurposes: [String] = ["TREAT"]
    /// The emergency purpose; honoured only with an active break-the-glass record.
    public var emergencyPurpose = "ETREAT"
    /// How long break-the-glass access lasts (seconds).
    public var breakTheGlassSeconds: Int64 = 4 * 3600
    /// Types a payer may read (what payment needs; never notes or results).
    public var payerTypes: [String] = ["Patient", "Coverage", "Claim", "ClaimResponse", "ExplanationOfBenefit",
                                       "CoverageEligibilityRequest", "CoverageEligibilityResponse"]
    /// What a payer sees of types it needs only in outline: an Encounter's who, when, where and
    /// what kind — never its reasons, diagnoses, participants or notes — and only the search
    /// parameters over those elements.
    public var payerMinimal: [String: MinimalView] = [
        "Encounter": MinimalView(elements: ["identifier", "status", "class", "type", "serviceType", "priority", "subject", "episodeOfCare",
                                            "period", "length", "serviceProvider", "account", "partOf"],
                                 parameters: ["identifier", "status", "class", "type", "subject", "patient", "episode-of-care", "date",
                                              "length", "service-provider", "account", "part-of"]),
    ]
    /// Types a payer's quality measures may *count* but never return (row Y5,
    /// `Door.payerSummary`): summary MeasureReports over its beneficiaries. Empty: payers get no
    /// quality figures.
    public var payerAggregateTypes: Set<String> = ["Condition", "Observation", "Encounter", "Immunization", "QuestionnaireResponse", "CareTeam"]
    /// The smallest population a payer's summary shows; counts from 1 to this − 1 are masked (row
    /// Y5). 5 is a choice (docs/financing.md says why), not a legal figure.
    public var smallCellMinimum = 5
    /// Purposes of payers.
    public var paymentPurposes: [String] = ["HPAYMT", "COVERAGE", "CLMATTCH"]
    /// Secondary uses: only with the patient's express consent, and the patient may oppose them.
    public var secondaryPurposes: [String] = ["HRESCH", "CLINTRCH", "HMARKT", "HOPERAT", "MLTRAINING", "HDEID", "TRAIN"]
    /// Default validity of a Consent granted from a request without a duration (seconds).
    public var defaultGrantSeconds: Int64 = 90 * 24 * 3600

    public init() {}

    /// Who asks, as the table sees them.
    public enum Actor: String, Sendable, CaseIterable {
        /// The patient (or someone acting for them) about their own record.
        case patient
        /// A practitioner or organization of health care.
        case clinician
        case payer
        /// Anyone using the data for a secondary purpose (research, analytics, training).
        case secondaryUser = "secondary-user"
    }

    public struct Question: Sendable, Equatable {
        public var actor: Actor
        public var purpose: String
        /// A treating relationship exists (CareTeam, Encounter, EpisodeOfCare, referral).
        public var treating: Bool
        /// nil: the record in general; else a sensitivity label.
        public var label: String?
        /// For payers: the resource type asked for.
        public var resourceType: String?
        /// What the patient's Consents say for this actor, purpose and label.
        public var consent: ConsentVerdict
        /// An active break-the-glass record of the asker for this patient (`Task/…`).
        public var breakTheGlass: String?
        /// For the patient: the Consent by which they chose not to be told about `label`, and
        /// whether this resource was disclosed to them since.
        public var notToKnow: String?
        public var disclosed: Bool

        public init(actor: Actor, purpose: String, treating: Bool = false, label: String? = nil, resourceType: String? = nil,
                    consent: ConsentVerdict = .none, breakTheGlass: String? = nil, notToKnow: String? = nil, disclosed: Bool = false) {
            self.actor = actor
            self.purpose = purpose
            self.treating = treating
            self.label = label
            self.resourceType = resourceType
            self.consent = consent
            self.breakTheGlass = breakTheGlass
            self.notToKnow = notToKnow
            self.disclosed = disclosed
        }
    }

    public struct Answer: Sendable, Equatable {
        public var permit: Bool
        /// The Consent, record or rule that decided (`Consent/12`, `urn:enlace:rule:…`).
        public var reason: String
        public init(_ permit: Bool, _ reason: String) {
            self.permit = permit
            self.reason = reason
        }
    }

    public static func rule(_ name: String) -> String { "urn:enlace:rule:\(name)" }

    public func isSensitive(_ label: String?) -> Bool { label.map { sensitiveLabels.contains($0) } ?? false }

    /// The table of docs/privacy-policy.md.
    public func decide(_ q: Question) -> Answer {
        switch q.actor {
        case .patient:
            if q.label != nil, let consent = q.notToKnow, !q.disclosed {
                return Answer(false, consent)                                           // P2 right not to know
            }
            return Answer(true, PrivacyPolicy.rule(q.notToKnow != nil ? "disclosed" : "own-record"))  // P1, P3
        case .clinician:
            if let btg = q.breakTheGlass { return Answer(true, btg) }                   // C7 break-the-glass (overrides consent, audited)
            if q.purpose == emergencyPurpose {
                return Answer(false, PrivacyPolicy.rule("emergency-needs-break-the-glass"))  // C8
            }
            if case .deny(let c) = q.consent { return Answer(false, c) }                // C6 the patient said no
            if isSensitive(q.label) {
                if case .permit(let c) = q.consent { return Answer(true, c) }           // C4 express consent
                return Answer(false, PrivacyPolicy.rule("sensitive-needs-consent"))     // C3
            }
            if case .permit(let c) = q.consent { return Answer(true, c) }               // C5 granted request
            if q.treating, treatmentPurposes.contains(q.purpose) {
                return Answer(true, PrivacyPolicy.rule("treating-relationship"))        // C1
            }
            if q.treating { return Answer(false, PrivacyPolicy.rule("purpose-not-treatment")) }  // C9
            return Answer(false, PrivacyPolicy.rule("no-relationship"))                 // C2
        case .payer:
            if case .deny(let c) = q.consent { return Answer(false, c) }
            if !paymentPurposes.contains(q.purpose) { return Answer(false, PrivacyPolicy.rule("payer-purpose-not-payment")) }  // Y3
            if let t = q.resourceType, payerMinimal[t] != nil {
                return Answer(true, PrivacyPolicy.rule("payer-minimal-encounter"))       // Y4 outline only
            }
            if let t = q.resourceType, !payerTypes.contains(t) {
                return Answer(false, PrivacyPolicy.rule("payer-minimum-necessary"))     // Y2
            }
            return Answer(true, PrivacyPolicy.rule("payer-beneficiary"))                // Y1
        case .secondaryUser:
            if case .deny(let c) = q.consent { return Answer(false, c) }                // R3 opposition (ARCO)
            if case .permit(let c) = q.consent { return Answer(true, c) }               // R2 express consent
            return Answer(false, PrivacyPolicy.rule("secondary-use-needs-consent"))     // R1
        }
    }
}
