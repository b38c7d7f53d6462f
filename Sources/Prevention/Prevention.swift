import FHIR
import Storage
import Trust

/// The Prevention module: the Cartilla Nacional de Salud as PlanDefinitions, $care-gaps, ImmunizationRecommendation, risk scores as recorded decisions.
///
/// A domain module (docs/architecture.md): it reaches patient data only through a
/// `GuardedRepository` the door opens (for a request's principal, or for its own named
/// principal when it consumes the event outbox), never a store; it meets the other domains only
/// through FHIR resources and the outbox. Server wires it in `Sources/Server/Domains/Prevention.swift`.
public enum PreventionModule {
    /// The module's name, as its principals and consumers are prefixed (`prevention.…`).
    public static let name = "prevention"
}
