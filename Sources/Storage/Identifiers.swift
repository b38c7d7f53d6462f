import Foundation

/// Where new logical ids come from; injected so tests are deterministic.
public protocol IDGenerator: Sendable {
    func next() -> String
}

/// Random UUIDs (lowercase), valid FHIR ids (https://hl7.org/fhir/R4/datatypes.html#id).
public struct UUIDGenerator: IDGenerator {
    public init() {}
    public func next() -> String { UUID().uuidString.lowercased() }
}
