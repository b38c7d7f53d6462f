import FHIR
import Foundation
import Trust

/// Prescription codes: `RX-XXXX-XXXX-XXXX`, 12 Crockford base-32 characters (60 random bits
/// from the system's secure generator), so a code cannot be guessed and reads aloud without
/// confusion (no I, L, O, U). The code is the patient's bearer credential at any pharmacy.
public enum PrescriptionCode {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    public static var system: String { Door.prescriptionCodeSystem }

    public static func generate() -> String {
        var g = SystemRandomNumberGenerator()
        let chars = (0..<12).map { _ in alphabet[Int(g.next(upperBound: UInt32(alphabet.count)))] }
        return "RX-" + String(chars[0..<4]) + "-" + String(chars[4..<8]) + "-" + String(chars[8..<12])
    }

    /// The code of a MedicationRequest, if it has one.
    public static func of(_ request: JSON) -> String? {
        (request["identifier"]?.arrayValue ?? []).first { $0["system"]?.stringValue == system }?["value"]?.stringValue
    }
}
