import FHIR
import Storage
import Trust

/// The Care module: referrals (ServiceRequest + Task), appointments, e-prescription and dispense, the duplicate-study check, the CDS Hooks service.
///
/// A domain module (docs/architecture.md): it reaches patient data only through a
/// `GuardedRepository` the door opens (for a request's principal, or for its own named
/// principal when it consumes the event outbox), never a store; it meets the other domains only
/// through FHIR resources and the outbox. Server wires it in `Sources/Server/Domains/Care.swift`.
public enum CareModule {
    /// The module's name, as its principals and consumers are prefixed (`care.…`).
    public static let name = "care"
}
