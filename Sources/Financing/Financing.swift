import FHIR
import Storage
import Trust

/// The Financing module: coverage and eligibility, claims and adjudication, the settlement ledger, quality measures and incentives.
///
/// A domain module (docs/architecture.md): it reaches patient data only through a
/// `GuardedRepository` the door opens (for a request's principal, or for its own named
/// principal when it consumes the event outbox), never a store; it meets the other domains only
/// through FHIR resources and the outbox. Server wires it in `Sources/Server/Domains/Financing.swift`.
public enum FinancingModule {
    /// The module's name, as its principals and consumers are prefixed (`financing.…`).
    public static let name = "financing"
}
