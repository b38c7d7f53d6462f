import FHIR
import Foundation
@testable import Care
import Storage
import Testing
import Trust

/// The forms of the clinician's *Recetar* and *Referir* pages (`PrescriptionForm`,
/// `ReferralForm`): what they build from good input, and each field's refusal in Spanish and
/// English (docs/prescribing.md#recetar, docs/care.md#portal).
@Suite struct OrderFormsTests {
    static let good: [String: String] = [
        "medicamento": "metformin", "presentacion": "850 mg tabletas", "dosis": "850", "frecuencia": "BID", "cantidad": "60", "unidad": "tabletas",
        "resurtidos": "2", "dias": "30", "indicaciones": "Con los alimentos",
    ]

    @Test func aPrescriptionFormBuildsTheMedicationRequestTheChecksRead() throws {
        let rx = try PrescriptionForm(Self.good).medicationRequest(patient: "ana", prescriber: "Practitioner/dra")
        #expect(rx["status"]?.stringValue == "active" && rx["intent"]?.stringValue == "order")
        #expect(rx["subject"]?["reference"]?.stringValue == "Patient/ana" && rx["requester"]?["reference"]?.stringValue == "Practitioner/dra")
        #expect(rx["medicationCodeableConcept"]?["text"]?.stringValue == "Metformina 850 mg tabletas")
        #expect(rx["medicationCodeableConcept"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "6809")
        let dosage = try #require(rx["dosageInstruction"]?.arrayValue?.first)
        #expect(dosage["text"]?.stringValue == "850 mg cada 12 horas durante 30 días. Con los alimentos")
        #expect(dosage["patientInstruction"]?.stringValue == "Con los alimentos")
        #expect(rx["dispenseRequest"]?["quantity"]?["value"] == .number("60") && rx["dispenseRequest"]?["numberOfRepeatsAllowed"] == .number("2"))
        #expect(rx["dispenseRequest"]?["expectedSupplyDuration"]?["code"]?.stringValue == "d")
        // the dose check reads the daily dose plainly: 850 mg twice a day
        #expect(DoseRangeCheck.dailyMilligrams(rx) == 1700)
        #expect(DoseRangeCheck().cards(orders: [PrescriptionForm.draft(rx)], patient: "ana", language: .es).isEmpty)
        var over = Self.good
        over["dosis"] = "1000"
        over["frecuencia"] = "QID"
        let draft = PrescriptionForm.draft(try PrescriptionForm(over).medicationRequest(patient: "ana", prescriber: "Practitioner/dra"))
        #expect(draft["status"]?.stringValue == "draft" && draft["id"]?.stringValue == PrescriptionForm.draftID)
        let cards = DoseRangeCheck().cards(orders: [draft], patient: "ana", language: .es)
        #expect(cards.count == 1 && cards[0].needsDecision && cards[0].orders == ["MedicationRequest/\(PrescriptionForm.draftID)"])
        // the same advice has the same key in another evaluation, another advice another key
        let again = DoseRangeCheck().cards(orders: [draft], patient: "ana", language: .es)
        #expect(again[0].uuid != cards[0].uuid && again[0].adviceKey == cards[0].adviceKey)
        over["dosis"] = "900"
        let other = DoseRangeCheck().cards(orders: [PrescriptionForm.draft(try PrescriptionForm(over).medicationRequest(patient: "ana", prescriber: "Practitioner/dra"))],
                                           patient: "ana", language: .es)
        #expect(other.count == 1 && other[0].adviceKey != cards[0].adviceKey)
        // prepared by $prescribe: a code and the validity
        let stored = try Prescribing().prepare(try PrescriptionForm(Self.good).medicationRequest(patient: "ana", prescriber: "Practitioner/dra"), now: Timestamp(microseconds: 0))
        #expect(PrescriptionCode.of(stored) != nil && stored["dispenseRequest"]?["validityPeriod"]?["end"] != nil)
        // the order-sign request carries the draft
        let call = try CDSRequest(json: PrescriptionForm.orderSign(draft, patient: "ana", user: "Practitioner/dra"), service: #require(CDSCatalogue.service(CDSCatalogue.orderSign)))
        #expect(call.draftOrders.count == 1 && call.patientID == "ana")
        // the medicines offered are the knowledge's, by Spanish name
        let medicines = PrescriptionForm.medicines()
        #expect(medicines.count == MedicationKnowledge.embedded.ingredients.count && medicines.contains { $0.id == "metformin" && $0.name == "Metformina" })
    }

    static func refusals(_ raw: [String: String]) -> [(field: String, spanish: String, english: String)] {
        do {
            _ = try PrescriptionForm(raw).medicationRequest(patient: "ana", prescriber: "Practitioner/dra")
            return []
        } catch let e as FHIRError {
            return e.issues.map { ($0.expression.first ?? "", $0.spanish, $0.english) }
        } catch { return [] }
    }

    @Test(arguments: [
        ("medicamento", "", "elija el medicamento", "choose the medicine"),
        ("medicamento", "morfina", "'morfina' no es un medicamento de la lista", "'morfina' is not a medicine of the list"),
        ("presentacion", String(repeating: "x", count: 101), "la presentación supera 100 caracteres", "the presentation is longer than 100 characters"),
        ("dosis", "", "la dosis (mg por toma) es obligatoria", "the dose (mg per dose) is required"),
        ("dosis", "1e3", "la dosis '1e3' no es un número de miligramos", "the dose '1e3' is not a number of milligrams"),
        ("dosis", "0", "la dosis debe ser mayor que 0 y a lo más 100000 mg", "the dose must be more than 0 and at most 100000 mg"),
        ("dosis", "100001", "la dosis debe ser mayor que 0 y a lo más 100000 mg", "the dose must be more than 0 and at most 100000 mg"),
        ("frecuencia", "", "elija cada cuándo", "choose how often"),
        ("frecuencia", "PRN", "'PRN' no es una frecuencia de la lista", "'PRN' is not a frequency of the list"),
        ("cantidad", "", "la cantidad a surtir es obligatoria", "the quantity to dispense is required"),
        ("cantidad", "0", "la cantidad a surtir debe ser un número entero de 1 a 10000", "the quantity to dispense must be a whole number from 1 to 10000"),
        ("cantidad", "2.5", "la cantidad a surtir debe ser un número entero de 1 a 10000", "the quantity to dispense must be a whole number from 1 to 10000"),
        ("unidad", "litros", "'litros' no es una unidad de la lista", "'litros' is not a unit of the list"),
        ("resurtidos", "13", "los resurtidos deben ser un número entero de 0 a 12", "refills must be a whole number from 0 to 12"),
        ("resurtidos", "-1", "los resurtidos deben ser un número entero de 0 a 12", "refills must be a whole number from 0 to 12"),
        ("dias", "0", "la duración debe ser un número entero de días de 1 a 365", "the duration must be a whole number of days from 1 to 365"),
        ("dias", "366", "la duración debe ser un número entero de días de 1 a 365", "the duration must be a whole number of days from 1 to 365"),
        ("indicaciones", String(repeating: "x", count: 501), "las indicaciones superan 500 caracteres", "the instructions are longer than 500 characters"),
    ])
    func eachPrescriptionFieldIsRefusedWithItsReason(_ field: String, _ value: String, _ spanish: String, _ english: String) {
        var raw = Self.good
        raw[field] = value
        let issues = Self.refusals(raw)
        #expect(issues.count == 1 && issues[0].field == field && issues[0].spanish == spanish && issues[0].english == english, "\(issues)")
    }

    @Test func theEdgesOfEachPrescriptionFieldAreAccepted() {
        for (field, value) in [("dosis", "0,5"), ("dosis", "100000"), ("cantidad", "1"), ("cantidad", "10000"), ("resurtidos", "0"), ("resurtidos", "12"),
                               ("resurtidos", ""), ("dias", "1"), ("dias", "365"), ("dias", ""), ("presentacion", ""), ("indicaciones", "")] {
            var raw = Self.good
            raw[field] = value
            #expect(Self.refusals(raw).isEmpty, "\(field)=\(value)")
        }
    }

    @Test func aReferralFormBuildsTheServiceRequestAndItsTask() throws {
        let form = ReferralForm(["destino": "Organization/hsf", "servicio": "Cardiología", "motivo": "Dolor torácico", "prioridad": "urgent", "vigencia": "30"],
                                documents: ["Observation/a", "Observation/a", "Condition/b"])
        let c = try form.check()
        #expect(c.organization == "Organization/hsf" && c.days == 30 && c.documents == ["Observation/a", "Condition/b"])
        let bundle = ReferralForm.transaction(organization: c.organization, organizationName: "Hospital Santa Fe", service: c.service, reason: c.reason,
                                              priority: c.priority, days: c.days, documents: c.documents, patient: "ana", requester: "Practitioner/dra",
                                              now: Timestamp(microseconds: 1_764_547_200_000_000))
        let entries = bundle["entry"]?.arrayValue ?? []
        let sr = try #require(entries.first?["resource"]), task = try #require(entries.last?["resource"])
        #expect(sr["category"]?.arrayValue?.first?["coding"]?.arrayValue?.first?["code"]?.stringValue == "3457005")
        #expect(sr["supportingInfo"]?.arrayValue?.count == 2 && sr["performer"]?.arrayValue?.first?["reference"]?.stringValue == "Organization/hsf")
        #expect(task["focus"]?["reference"]?.stringValue == entries.first?["fullUrl"]?.stringValue)
        #expect(ReferralWorkflow.isReferral(task) && task["status"]?.stringValue == "requested")
        #expect(task["restriction"]?["period"]?["start"]?.stringValue == "2025-12-01" && task["restriction"]?["period"]?["end"]?.stringValue == "2025-12-31")
        #expect(task["input"]?.arrayValue?.count == 2)
        // the workflow accepts it as a new referral by its requester
        let dra = Principal(subject: "user:dra", scopes: ScopeSet("user/*.cruds"), tokenID: "t", role: .practitioner, fhirUser: "Practitioner/dra",
                            organization: "Organization/umf")
        try ReferralWorkflow().check(task.setting("focus", .object([("reference", .string("ServiceRequest/x"))])), previous: nil, principal: dra)
    }

    @Test func eachReferralFieldIsRefusedWithItsReason() {
        let good = ["destino": "Organization/hsf", "servicio": "Cardiología", "motivo": "Dolor", "prioridad": "routine", "vigencia": "90"]
        let cases: [(String, String, [String], String, String)] = [
            ("destino", "", [], "elija a dónde referir al paciente", "choose where to refer the patient"),
            ("destino", "Practitioner/x", [], "'Practitioner/x' no es una institución de la lista", "'Practitioner/x' is not an institution of the list"),
            ("servicio", " ", [], "el servicio o especialidad que se solicita es obligatorio", "the service or specialty asked for is required"),
            ("motivo", "", [], "el motivo de la referencia es obligatorio", "the reason for the referral is required"),
            ("prioridad", "stat", [], "'stat' no es una prioridad de la lista", "'stat' is not a priority of the list"),
            ("vigencia", "365", [], "la vigencia del acceso debe ser de 30, 90, 180 días", "the access period must be one of 30, 90, 180 days"),
            ("documentos", "", ["Patient/ana"], "'Patient/ana' no es un documento del expediente del paciente", "'Patient/ana' is not a document of the patient's record"),
        ]
        for (field, value, documents, spanish, english) in cases {
            var raw = good
            if field != "documentos" { raw[field] = value }
            do {
                _ = try ReferralForm(raw, documents: documents).check()
                Testing.Issue.record("\(field)=\(value) was accepted")
            } catch let e as FHIRError {
                #expect(e.status == 422 && e.issues.count == 1 && e.issues[0].expression == [field] && e.issues[0].spanish == spanish && e.issues[0].english == english,
                        "\(e.issues)")
            } catch { Testing.Issue.record("\(error)") }
        }
        #expect(throws: FHIRError.self) { try ReferralForm(good, documents: (0...20).map { "Observation/o\($0)" }).check() }
    }
}
