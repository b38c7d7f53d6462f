import FHIR
import Financing
import Foundation
import Server
import Testing
import Trust

/// The financing races across server nodes (docs/financing.md, "Races"): two server applications
/// on the same database — the same SQLite file, the same PostgreSQL schema — each with its own
/// store, door and `FinancingWriteGate`, so nothing but the database serialises them. What each
/// operation read before writing is re-checked in the write's transaction (`LedgerFence`).
@Suite("Financing on two nodes")
struct FinancingNodesTests {
    typealias H = FinancingHTTPTests

    /// `body` with a client of each of two nodes on one database of `backend`, after `setUp` and
    /// the private plan (through node a).
    static func onTwoNodes(_ backend: ServerBackend, _ body: @Sendable (Client, Client, TestServer, TestServer) async throws -> Void) async throws {
        let (a, b, cleanup) = try await backend.makeTwoNodes()
        defer { cleanup() }
        try await a.run { ca in
            try await b.run { cb in
                try await H.setUp(ca)
                try await H.setUpPrivatePlan(ca)
                try await body(ca, cb, a, b)
            }
        }
    }

    /// The ledger as stored, and what it violates (docs/financing.md, "Invariants").
    static func violations(_ node: TestServer) async throws -> [String] {
        try await node.services.financing.ledger(guarded: FinancingPortalTests.operatorGuard(node.services)).violations()
    }

    /// The deductible and benefit totals of patient c's ExplanationOfBenefits, as stored.
    static func patientCTotals(_ c: Client) async throws -> (count: Int, deductible: Decimal, benefit: Decimal) {
        let eobs = try await c.send(.get, "/fhir/ExplanationOfBenefit?patient=Patient/c&_count=100").json["entry"]?.arrayValue?.compactMap { $0["resource"] } ?? []
        return (eobs.count, eobs.map { H.amount($0["total"], "deductible") }.reduce(0, +), eobs.map { H.amount($0["total"], "benefit") }.reduce(0, +))
    }

    /// Six claims of one patient at once, three on each node, under one deductible of 1,500.00:
    /// by hand (FinancingHTTPTests) the deductible is applied exactly once, 1,500.00, and the
    /// insurer pays 4,968.00, whatever the order.
    @Test(arguments: ServerBackend.allCases)
    func claimsOfOnePatientOnTwoNodesUseTheDeductibleOnce(backend: ServerBackend) async throws {
        try await Self.onTwoNodes(backend) { a, b, node, _ in
            let replies = try await H.concurrently((0..<6).map { i in
                let body = H.deductibleClaim(i), c = i % 2 == 0 ? a : b
                return { try await c.send(.post, "/fhir/Claim/$submit", json: body) }
            })
            #expect(replies.allSatisfy { $0.status == 201 }, "\(replies.map(\.text))")
            let stored = try await Self.patientCTotals(b)
            #expect(stored.count == 6)
            #expect(stored.deductible == Decimal(string: "1500.00")!)
            #expect(stored.benefit == Decimal(string: "4968.00")!)
            #expect(replies.map { H.amount($0.json["total"], "deductible") }.reduce(0, +) == Decimal(string: "1500.00")!)
            #expect(try await Self.violations(node) == [])
        }
    }

    /// The same Claim identifier submitted three times on each node at once: one Claim, one
    /// ClaimResponse, one ExplanationOfBenefit (one payment), one 201; every reply is that ClaimResponse.
    @Test(arguments: ServerBackend.allCases)
    func oneClaimSubmittedOnTwoNodesIsStoredOnce(backend: ServerBackend) async throws {
        try await Self.onTwoNodes(backend) { a, b, node, _ in
            let body = H.claim("same-2", patient: "a", provider: "imss-umf-20", date: "2026-08-14", items: [("01.001", 2)])
            let replies = try await H.concurrently((0..<6).map { i in
                let c = i % 2 == 0 ? a : b
                return { try await c.send(.post, "/fhir/Claim/$submit", json: body) }
            })
            #expect(replies.allSatisfy { $0.status == 200 || $0.status == 201 }, "\(replies.map(\.text))")
            #expect(Set(replies.compactMap { $0.json["id"]?.stringValue }).count == 1)
            #expect(replies.filter { $0.status == 201 }.count == 1)
            for c in [a, b] {
                for type in ["Claim", "ClaimResponse", "ExplanationOfBenefit"] { #expect(try await H.total(c, type) == 1, "\(type)") }
            }
            let ledger = try await node.services.financing.ledger(guarded: FinancingPortalTests.operatorGuard(node.services))
            #expect(ledger.entries.count == 1)
            #expect(ledger.violations() == [])
        }
    }

    /// Node a settles 2026-Q3 while node b submits six claims of the quarter: each claim lands in
    /// exactly one period (Q3 before the settlement, and then counted in it; Q4 after), the
    /// settlement pays exactly its Q3 claims, and no receivable is left in the settled quarter.
    @Test(arguments: ServerBackend.allCases)
    func claimsOnOneNodeDuringASettlementOnTheOtherLandInOnePeriod(backend: ServerBackend) async throws {
        try await Self.onTwoNodes(backend) { a, b, node, _ in
            try await H.claimsDuringASettlement(claimsOn: b, settleOn: a)
            #expect(try await Self.violations(node) == [])
        }
    }

    /// Node b's `financing.claims` consumer claims three finished emergency visits of patient c
    /// while node a takes three `Claim/$submit`s of the same patient: six claims of 1,170.00 under
    /// one deductible of 1,500.00 apply it exactly once (the consumer writes outside any gate; a
    /// batch the fence refused is run again, as the consumer runner does).
    @Test(arguments: ServerBackend.allCases)
    func theConsumerAndSubmitOnTwoNodesUseTheDeductibleOnce(backend: ServerBackend) async throws {
        try await Self.onTwoNodes(backend) { a, b, _, node in
            for i in 0..<3 {
                let encounter = #"{"resourceType":"Encounter","id":"er-\#(i)","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"EMER"},"subject":{"reference":"Patient/c"},"serviceProvider":{"reference":"Organization/hospital"},"period":{"start":"2026-08-2\#(i)T10:00:00Z","end":"2026-08-2\#(i)T12:00:00Z"}}"#
                #expect(try await a.send(.put, "/fhir/Encounter/er-\(i)", json: encounter).status == 201)
            }
            let consumer = ClaimsFromCareConsumer(service: node.services.financing, start: .beginning)
            let door = node.services.door
            let submits = try await withThrowingTaskGroup(of: [Client.Reply].self) { g in
                g.addTask {
                    try await H.concurrently((0..<3).map { i in
                        let body = H.deductibleClaim(i)
                        return { try await a.send(.post, "/fhir/Claim/$submit", json: body) }
                    })
                }
                g.addTask {
                    // what the consumer runner does: a batch refused by the fence is run again
                    for attempt in 1...20 {
                        do {
                            try await door.catchUp(consumer)
                            break
                        } catch let e as FHIRError where e.status == 409 && attempt < 20 { continue }
                    }
                    return []
                }
                var out: [Client.Reply] = []
                for try await r in g { out += r }
                return out
            }
            #expect(submits.count == 3 && submits.allSatisfy { $0.status == 201 }, "\(submits.map(\.text))")
            let stored = try await Self.patientCTotals(a)
            #expect(stored.count == 6)
            #expect(stored.deductible == Decimal(string: "1500.00")!)
            #expect(try await Self.violations(node) == [])
        }
    }
}
