import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// Break-the-glass: the emergency access records (btg-review Tasks) that open a patient to the
/// practitioner who asserted the emergency, for a limited time (docs/consent.md).
extension AccessPolicy {
    /// Active break-the-glass records of the asker: patient id → `Task/…`.
    func breakTheGlassGrants(_ p: Principal, store: any ResourceStore, millis: Int64) async throws -> [String: String] {
        guard let me = p.fhirUser else { return [:] }
        var out: [String: String] = [:]
        for t in try await resources(store, type: "Task", parameters: [("code", "\(PrivacyCodes.taskCodes)|\(PrivacyCodes.breakTheGlassReview)"),
                                                                       ("requester", me)]) {
            let body = try t.json()
            guard !["cancelled", "entered-in-error", "rejected"].contains(body["status"]?.stringValue ?? ""),
                  let ref = body["for"]?["reference"]?.stringValue, ref.hasPrefix("Patient/"),
                  let start = body["executionPeriod"]?["start"]?.stringValue.flatMap({ DateRange($0)?.low }),
                  let end = body["executionPeriod"]?["end"]?.stringValue.flatMap({ DateRange($0)?.high }),
                  start <= millis, millis <= end else { continue }
            out[String(ref.dropFirst(8))] = "Task/\(t.id)"
        }
        return out
    }
}
