import FHIR
import Foundation
@testable import Care
import Testing

/// The order-sign dose check (`DoseRangeCheck`, docs/care.md, "Dose ranges"): daily doses
/// computed from FHIR Dosage only when they can be without guessing, compared with the curated
/// labelled maxima.
@Suite struct DoseRangeTests {
    static func request(_ medicine: String, dose: String, timing: String, id: String = "draft") throws -> JSON {
        try JSONParser.parse(#"""
            {"resourceType":"MedicationRequest","id":"\#(id)","status":"draft","intent":"order","subject":{"reference":"Patient/ana"},
             "medicationCodeableConcept":{"text":"\#(medicine)"},
             "dosageInstruction":[{"timing":\#(timing),"doseAndRate":[{"doseQuantity":\#(dose)}]}]}
            """#)
    }

    static let tid = #"{"repeat":{"frequency":3,"period":1,"periodUnit":"d"}}"#
    static let q6h = #"{"repeat":{"frequency":1,"period":6,"periodUnit":"h"}}"#
    static let bidCode = #"{"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation","code":"BID"}]}}"#
    static let tablet = #"{"value":1,"unit":"tableta","system":"http://unitsofmeasure.org","code":"{tbl}"}"#
    static func mg(_ v: Double) -> String { #"{"value":\#(v),"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}"# }

    @Test func embeddedLimitsParseAndNameKnownIngredientsWithASource() {
        let k = MedicationKnowledge.embedded
        #expect(k.doseLimits.count >= 8)
        let ids = Set(k.ingredients.map(\.id))
        for l in k.doseLimits {
            #expect(ids.contains(l.ingredient), "\(l.ingredient)")
            #expect(l.maxDailyMilligrams > 0 && !l.source.isEmpty)
        }
        #expect(k.doseLimits.first { $0.ingredient == "metformin" }?.maxDailyMilligrams == 2550)
    }

    @Test func strengthIsReadFromTheNameOnlyWhenItIsOneClearAmount() {
        #expect(DoseRangeCheck.strengthMilligrams("Metformina 850 mg tabletas") == 850)
        #expect(DoseRangeCheck.strengthMilligrams("Metformina 0,5 g tabletas") == 500)
        #expect(DoseRangeCheck.strengthMilligrams("Losartán 50mg") == 50)
        #expect(DoseRangeCheck.strengthMilligrams("Ibuprofeno suspensión 100 mg/5 ml") == nil)  // a concentration
        #expect(DoseRangeCheck.strengthMilligrams("Metformina/glibenclamida 500 mg/5 mg") == nil)
        #expect(DoseRangeCheck.strengthMilligrams("Metformina") == nil)
        #expect(DoseRangeCheck.strengthMilligrams("Metformina 500 mg y 850 mg") == nil)  // two amounts: which?
    }

    @Test func dailyDosesFromTimingRepeatCodesAndTablets() throws {
        #expect(DoseRangeCheck.dailyMilligrams(try Self.request("Metformina 850 mg tabletas", dose: Self.tablet, timing: Self.tid)) == 2550)
        #expect(DoseRangeCheck.dailyMilligrams(try Self.request("Ibuprofeno", dose: Self.mg(800), timing: Self.q6h)) == 3200)
        #expect(DoseRangeCheck.dailyMilligrams(try Self.request("Losartán", dose: Self.mg(100), timing: Self.bidCode)) == 200)
        #expect(DoseRangeCheck.dailyMilligrams(try Self.request("Metformina 1 g", dose: #"{"value":2,"unit":"tabletas"}"#, timing: Self.bidCode)) == 4000)
        // not computed rather than guessed: tablets of an unknown strength, a range of frequencies, no timing, per kilogram
        #expect(DoseRangeCheck.dailyMilligrams(try Self.request("Metformina", dose: Self.tablet, timing: Self.tid)) == nil)
        #expect(DoseRangeCheck.dailyMilligrams(try Self.request("Ibuprofeno", dose: Self.mg(400),
                                                                timing: #"{"repeat":{"frequency":1,"frequencyMax":4,"period":1,"periodUnit":"d"}}"#)) == nil)
        #expect(DoseRangeCheck.dailyMilligrams(try Self.request("Ibuprofeno", dose: Self.mg(400), timing: "{}")) == nil)
        #expect(DoseRangeCheck.dailyMilligrams(try Self.request("Ibuprofeno", dose: #"{"value":10,"unit":"mg/kg","code":"mg/kg"}"#, timing: Self.tid)) == nil)
    }

    @Test func aDoseAboveTheMaximumGetsAWarningWithItsSourceAndOneAtTheMaximumDoesNot() throws {
        let check = DoseRangeCheck()
        let atMax = try Self.request("Metformina 850 mg tabletas", dose: Self.tablet, timing: Self.tid, id: "at-max")
        let above = try Self.request("Metformina 850 mg tabletas", dose: #"{"value":2,"unit":"tabletas"}"#, timing: Self.tid, id: "above")
        let unknown = try Self.request("Paracetamol 500 mg", dose: Self.mg(5000), timing: Self.tid, id: "not-in-table")
        let cards = check.cards(orders: [atMax, above, unknown], patient: "ana", language: .es)
        #expect(cards.count == 1)
        let card = try #require(cards.first)
        #expect(card.orders == ["MedicationRequest/above"])
        #expect(card.indicator == .warning && card.sourceTopic?.code == "dose-range")
        #expect(card.summary.contains("5,100 mg/día") && card.summary.contains("2,550"), "\(card.summary)")
        #expect(card.detail?.contains("Glucophage") == true, "\(card.detail ?? "")")
        let english = check.cards(orders: [above], patient: "ana", language: .en)
        #expect(english.first?.summary.contains("mg/day") == true)
    }
}
