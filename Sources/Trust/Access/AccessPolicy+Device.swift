import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// Device binding (docs/monitoring.md "Who may write readings", docs/access.md): a device
/// gateway — a Backend Services client, i.e. a `service` principal with a `clientID` — writes
/// readings only for the `Device`s it registered, and a reading naming a `Device` goes only to
/// the patient that Device is assigned to (`Device.patient`).
///
/// Checked by every guard in the write's own transaction (a `WriteRule`), so a refusal leaves
/// nothing behind; in a batch each entry is refused on its own. The registration (which client
/// first wrote the Device, and its current `patient`) is a small record kept in the same
/// transaction as the Device's version. Platform operators are not bound (imports, the demo).
///
/// - A gateway that writes a `Device` registers it; it may not change or delete a Device it did
///   not register (403).
/// - A gateway's `Observation` must name `device` with a reference to a Device it registered
///   (else 403, the same answer whether that Device exists or not), assigned to the
///   Observation's `subject` (else 403).
/// - Anyone else (a patient's app, a clinician) writing an Observation that names a Device
///   assigned to another patient gets 403.
public struct DeviceBinding: WriteRule {
    public init() {}
    public var types: Set<String> { ["Device", "Observation"] }

    /// The record kind registrations are kept under (key: the Device id).
    public static let recordKind = "trust:device-binding"

    /// Who registered a Device and whom it is assigned to.
    public struct Registration: Codable, Sendable, Equatable {
        /// The client id of the gateway that registered it (nil: written by someone else).
        public var client: String?
        /// `Patient/<id>` or nil when unassigned.
        public var patient: String?

        public init(client: String?, patient: String?) {
            self.client = client
            self.patient = patient
        }

        static func decode(_ bytes: [UInt8]?) -> Registration? {
            bytes.flatMap { try? JSONDecoder().decode(Registration.self, from: Data($0)) }
        }

        var encoded: [UInt8] { (try? [UInt8](JSONEncoder().encode(self))) ?? [] }
    }

    /// The gateway's client id, when the principal is a Backend Services client.
    static func gateway(_ p: Principal) -> String? {
        p.effectiveRole == .service ? p.clientID : nil
    }

    public func keep(_ new: JSON?, previous: JSON?, id: String, principal: Principal, decision: AccessDecision,
                     recorded: (String, String) throws -> [UInt8]?) throws -> [ConsumerState.Change] {
        if principal.effectiveRole == .platformOperator, (new ?? previous)?["resourceType"]?.stringValue == "Observation" { return [] }
        switch (new ?? previous)?["resourceType"]?.stringValue {
        case "Device":
            let registration = Registration.decode(try recorded(Self.recordKind, id))
            if let client = Self.gateway(principal), previous != nil || registration != nil, registration?.client != client {
                throw Self.refused("Device/\(id) was not registered by this client: a device gateway changes only the Devices it registered",
                                   "el Device/\(id) no lo registró este cliente: una pasarela de dispositivos solo cambia los Device que registró")
            }
            let client = registration?.client ?? (previous == nil ? Self.gateway(principal) : nil)
            let patient = new?["patient"]?["reference"]?.stringValue.map(Self.plain)
            let next = Registration(client: client, patient: patient)
            return next == registration ? [] : [.init(kind: Self.recordKind, key: id, value: next.encoded)]
        case "Observation":
            for observation in [new, Self.gateway(principal) != nil ? previous : nil].compactMap({ $0 }) {
                try check(observation, principal: principal, recorded: recorded)
            }
            return []
        default:
            return []
        }
    }

    func check(_ observation: JSON, principal: Principal, recorded: (String, String) throws -> [UInt8]?) throws {
        let device = observation["device"]?["reference"]?.stringValue.map(Self.plain)
        let deviceID = device.flatMap { $0.hasPrefix("Device/") ? String($0.dropFirst("Device/".count)) : nil }
        let subject = observation["subject"]?["reference"]?.stringValue.map(Self.plain)
        // a reading that names no Device (a laboratory system's result, a nurse's entry) is
        // governed by the client's scopes and the access decision, like any other write: only
        // readings attributed to a Device are bound to it (docs/monitoring.md)
        guard let deviceID, !deviceID.isEmpty, !deviceID.contains("/") else { return }
        let registration = Registration.decode(try recorded(Self.recordKind, deviceID))
        if let client = Self.gateway(principal), registration?.client != client {
            throw Self.refused("Device/\(deviceID) is not a Device this client registered: a device gateway writes readings only for its own Devices",
                               "el Device/\(deviceID) no es un Device que este cliente registró: una pasarela de dispositivos solo escribe lecturas de sus propios Device")
        }
        guard let registration else { return }
        if Self.gateway(principal) != nil || registration.patient != nil, registration.patient != subject {
            throw Self.refused("Device/\(deviceID) is not assigned to \(subject ?? "the Observation's subject"): a device writes readings only for the patient it is assigned to (Device.patient)",
                               "el Device/\(deviceID) no está asignado a \(subject ?? "el sujeto de la Observation"): un dispositivo solo escribe lecturas del paciente al que está asignado (Device.patient)")
        }
    }

    /// `Patient/x/_history/2` → `Patient/x`.
    static func plain(_ reference: String) -> String {
        reference.components(separatedBy: "/_history").first ?? reference
    }

    static func refused(_ english: String, _ spanish: String) -> FHIRError {
        FHIRError(status: 403, code: "forbidden", english: english, spanish: spanish)
    }
}
