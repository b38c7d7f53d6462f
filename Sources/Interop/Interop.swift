import FHIR
import Storage
import Trust

/// The Interop module: patient matching and merge, Bulk Data $export/$import, the terminology service, the International Patient Summary.
///
/// A domain module (docs/architecture.md): it reaches patient data only through a
/// `GuardedRepository` the door opens (for a request's principal, or for its own named
/// principal when it consumes the event outbox), never a store; it meets the other domains only
/// through FHIR resources and the outbox. Server wires it in `Sources/Server/Domains/Interop.swift`.
public enum InteropModule {
    /// The module's name, as its principals and consumers are prefixed (`interop.…`).
    public static let name = "interop"
}
