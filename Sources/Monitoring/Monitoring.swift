import FHIR
import Storage
import Trust

/// The Monitoring module: device ingestion (PHD, Open mHealth), Observation $stats, alert rules (Goal), Subscriptions (R5 backport) — issue: monitoring.
///
/// A domain module (docs/architecture.md): it reaches patient data only through a
/// `GuardedRepository` the door opens (for a request's principal, or for its own named
/// principal when it consumes the event outbox), never a store; it meets the other domains only
/// through FHIR resources and the outbox. Server wires it in `Sources/Server/Domains/Monitoring.swift`.
public enum MonitoringModule {
    /// The module's name, as its principals and consumers are prefixed (`monitoring.…`).
    public static let name = "monitoring"
}
