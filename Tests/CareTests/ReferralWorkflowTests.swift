import FHIR
import Foundation
@testable import Care
import Testing
import Trust

/// The referral Task state machine (docs/care.md, "Referrals"): every legal and every illegal
/// transition, who may make each, and the rules on what a referral Task must carry.
@Suite struct ReferralWorkflowTests {
    static let statuses = ["draft", "requested", "received", "accepted", "rejected", "ready", "cancelled", "in-progress", "on-hold", "failed",
                           "completed", "entered-in-error"]

    /// The legal transitions, written out independently of the implementation's table.
    static let legal: Set<String> = [
        "draft>requested", "draft>cancelled",
        "requested>received", "requested>accepted", "requested>rejected", "requested>cancelled",
        "received>accepted", "received>rejected", "received>cancelled",
        "accepted>ready", "accepted>in-progress", "accepted>on-hold", "accepted>cancelled",
        "ready>in-progress", "ready>on-hold", "ready>cancelled",
        "in-progress>on-hold", "in-progress>completed", "in-progress>failed", "in-progress>cancelled",
        "on-hold>in-progress", "on-hold>cancelled",
        // entered-in-error from anything but itself
        "draft>entered-in-error", "requested>entered-in-error", "received>entered-in-error", "accepted>entered-in-error",
        "rejected>entered-in-error", "ready>entered-in-error", "cancelled>entered-in-error", "in-progress>entered-in-error",
        "on-hold>entered-in-error", "failed>entered-in-error", "completed>entered-in-error",
    ]

    static func task(_ status: String, owner: String = "Organization/hsf", extra: [(String, JSON)] = []) -> JSON {
        .object([
            ("resourceType", .string("Task")), ("id", .string("t1")), ("status", .string(status)), ("intent", .string("order")),
            ("code", .object([("coding", .array([.object([("system", .string(ReferralWorkflow.system)), ("code", .string("referral"))])]))])),
            ("focus", .object([("reference", .string("ServiceRequest/sr1"))])),
            ("for", .object([("reference", .string("Patient/ana"))])),
            ("requester", .object([("reference", .string("Practitioner/dra"))])),
            ("owner", .object([("reference", .string(owner))])),
        ] + extra)
    }

    static let complete: [(String, JSON)] = [
        ("statusReason", .object([("text", .string("motivo"))])),
        ("output", .array([.object([("type", .object([("text", .string("Encounter"))])), ("valueReference", .object([("reference", .string("Encounter/e1"))]))])])),
    ]

    static let operatorPrincipal = Principal(subject: "op", scopes: ScopeSet("system/*.*"), tokenID: "t")
    static let sender = Principal(subject: "dra", scopes: ScopeSet("user/*.cruds"), tokenID: "t", role: .practitioner, fhirUser: "Practitioner/dra",
                                  organization: "Organization/umf")
    static let receiver = Principal(subject: "drb", scopes: ScopeSet("user/*.cruds"), tokenID: "t", role: .practitioner, fhirUser: "Practitioner/drb",
                                    organization: "Organization/hsf")
    static let patient = Principal(subject: "ana", scopes: ScopeSet("patient/*.cruds"), tokenID: "t", role: .patient, fhirUser: "Patient/ana", patient: "ana")
    static let stranger = Principal(subject: "x", scopes: ScopeSet("user/*.cruds"), tokenID: "t", role: .practitioner, fhirUser: "Practitioner/x",
                                    organization: "Organization/x")

    func refusal(_ body: () throws -> Void) -> FHIRError? {
        do { try body(); return nil } catch let e as FHIRError { return e } catch { Issue.record("\(error)"); return nil }
    }

    @Test func everyTransitionIsLegalExactlyWhenTheStateMachineSaysSo() {
        let rule = ReferralWorkflow()
        var checked = 0
        for from in Self.statuses {
            for to in Self.statuses where to != from {
                let e = refusal { try rule.check(Self.task(to, extra: Self.complete), previous: Self.task(from), principal: Self.operatorPrincipal) }
                if Self.legal.contains("\(from)>\(to)") {
                    #expect(e == nil, "\(from) → \(to) should be legal: \(e?.description ?? "")")
                } else {
                    #expect(e?.status == 422 && e?.issues.first?.code == "business-rule", "\(from) → \(to) should be refused")
                    #expect(e?.issues.first?.expression == ["Task.status"], "\(from) → \(to)")
                }
                checked += 1
            }
        }
        #expect(checked == 12 * 11)
        // a terminal state cannot even be edited in place
        for s in ["completed", "rejected", "cancelled", "failed", "entered-in-error"] {
            #expect(refusal { try rule.check(Self.task(s, extra: Self.complete), previous: Self.task(s), principal: Self.operatorPrincipal) } != nil, "\(s)")
        }
        #expect(refusal { try rule.check(Self.task("in-progress", extra: Self.complete), previous: Self.task("in-progress"), principal: Self.operatorPrincipal) } == nil)
    }

    @Test func whoMayMoveAReferral() {
        let rule = ReferralWorkflow()
        func ok(_ from: String, _ to: String, _ p: Principal) -> Bool {
            refusal { try rule.check(Self.task(to, extra: Self.complete), previous: Self.task(from), principal: p) } == nil
        }
        #expect(ok("requested", "accepted", Self.receiver))
        #expect(!ok("requested", "accepted", Self.sender))
        #expect(!ok("requested", "accepted", Self.patient))
        #expect(!ok("requested", "accepted", Self.stranger))
        #expect(ok("requested", "received", Self.receiver))
        #expect(ok("requested", "rejected", Self.receiver))
        #expect(ok("requested", "cancelled", Self.sender))
        #expect(ok("accepted", "cancelled", Self.patient))  // the patient withdraws the referral (and the access it granted)
        #expect(!ok("requested", "cancelled", Self.stranger))
        #expect(ok("in-progress", "completed", Self.receiver))
        #expect(!ok("in-progress", "completed", Self.sender))
        #expect(ok("accepted", "entered-in-error", Self.sender))
        #expect(!ok("accepted", "entered-in-error", Self.receiver))
        // a practitioner of the receiving organization is the receiver
        let colleague = Principal(subject: "drc", scopes: ScopeSet("user/*.cruds"), tokenID: "t", role: .practitioner, fhirUser: "Practitioner/drc",
                                  organization: "Organization/hsf")
        #expect(ok("received", "accepted", colleague))
    }

    @Test func whatAReferralTaskMustCarry() {
        let rule = ReferralWorkflow()
        // created as draft or requested, by its requester, with an owner when requested
        #expect(refusal { try rule.check(Self.task("requested"), previous: nil, principal: Self.sender) } == nil)
        #expect(refusal { try rule.check(Self.task("accepted"), previous: nil, principal: Self.sender) }?.status == 422)
        #expect(refusal { try rule.check(Self.task("requested"), previous: nil, principal: Self.receiver) }?.issues.first?.expression == ["Task.requester"])
        var noFocus = Self.task("requested")
        noFocus = noFocus.setting("focus", nil)
        #expect(refusal { try rule.check(noFocus, previous: nil, principal: Self.sender) }?.issues.first?.expression == ["Task.focus"])
        #expect(refusal { try rule.check(Self.task("requested").setting("for", nil), previous: nil, principal: Self.sender) }?.issues.first?.expression == ["Task.for"])
        #expect(refusal { try rule.check(Self.task("requested").setting("owner", nil), previous: nil, principal: Self.sender) }?.issues.first?.expression == ["Task.owner"])
        // rejected needs a reason, completed needs its output
        #expect(refusal { try rule.check(Self.task("rejected"), previous: Self.task("requested"), principal: Self.receiver) }?.issues.first?.expression == ["Task.statusReason"])
        #expect(refusal { try rule.check(Self.task("completed"), previous: Self.task("in-progress"), principal: Self.receiver) }?.issues.first?.expression == ["Task.output"])
        // the patient, the focus and the requester never change; the owner only before acceptance
        let otherFocus = Self.task("accepted").setting("focus", .object([("reference", .string("ServiceRequest/other"))]))
        #expect(refusal { try rule.check(otherFocus, previous: Self.task("accepted"), principal: Self.operatorPrincipal) }?.issues.first?.expression == ["Task.focus"])
        #expect(refusal { try rule.check(Self.task("requested", owner: "Organization/imss"), previous: Self.task("requested"), principal: Self.sender) } == nil)
        #expect(refusal { try rule.check(Self.task("accepted", owner: "Organization/imss"), previous: Self.task("accepted"), principal: Self.operatorPrincipal) }?.issues.first?.expression == ["Task.owner"])
        // no deleting, no dropping the code; other Tasks are not looked at
        #expect(refusal { try rule.check(nil, previous: Self.task("requested"), principal: Self.sender) }?.status == 422)
        #expect(refusal { try rule.check(Self.task("requested").setting("code", nil), previous: Self.task("requested"), principal: Self.sender) }?.issues.first?.expression == ["Task.code"])
        let plain = JSON.object([("resourceType", .string("Task")), ("status", .string("completed")), ("intent", .string("order"))])
        #expect(refusal { try rule.check(plain, previous: plain.setting("status", .string("draft")), principal: Self.stranger) } == nil)
    }
}
