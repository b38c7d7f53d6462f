import FHIR
import Foundation
import Trust

extension DemoData {
    /// The Care part of the demo (docs/architecture.md, "Adding a domain service"): runs after
    /// the core demo record is loaded, through the door like every other write.
    func seedCare(_ g: DemoGenerator) async throws {}
}
