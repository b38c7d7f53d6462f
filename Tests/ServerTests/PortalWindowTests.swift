import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
@_spi(Unguarded) import Storage
import Testing
@_spi(Unguarded) import Trust

/// The portal's long records (docs/portal.md, "Long records"): *Mi expediente*, *Resumen* and
/// *Decisiones* show a bounded, newest-first window, and *Ver más* reaches every entry, page by page.
@Suite struct PortalWindowTests {
    /// More entries than a page holds: `extra` Observations for Ana, each with its own title,
    /// dated after everything in the demo (so they are the newest), one minute apart.
    static func addResults(_ services: EnlaceServices, _ extra: Int) async throws {
        for k in 0..<extra {
            let minute = String(format: "%02d:%02d", k / 60, k % 60)
            let o: JSON = try JSONParser.parse("""
                {"resourceType":"Observation","status":"final","subject":{"reference":"Patient/demo-p001"},
                 "code":{"text":"Ventana \(k)"},"effectiveDateTime":"2099-01-01T\(minute):00Z",
                 "valueQuantity":{"value":\(60 + k % 40),"unit":"/min"}}
                """)
            _ = try await services.repository.create("Observation", o)
        }
    }

    /// The numbers of the `Ventana k` entries on a page, in order.
    static func windowTitles(_ page: String) -> [Int] {
        page.matches(of: /<h3>Ventana (\d+)<\/h3>/).compactMap { Int($0.1) }
    }

    /// The `href` of the page's *Ver más* link, unescaped, if it has one.
    static func nextLink(_ page: String) -> String? {
        guard let m = page.firstMatch(of: /<a class="more" rel="next" href="([^"]+)"/) else { return nil }
        return String(m.1).replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test func longTimelineIsPagedAndEveryEntryIsReached() async throws {
        try await PortalTests.withDemoPortal { services, browser in
            let extra = 3 * Portal.timelineWindow + 7
            try await Self.addResults(services, extra)
            let ana = try await browser.signIn("ana")
            let (status, first) = try await browser.get("/expediente", cookie: ana)
            #expect(status == .ok)
            // the first page: the newest window only, newest first, and a link to the next
            let shown = Self.windowTitles(first)
            #expect(shown.count == Portal.timelineWindow, "the first page shows one window: \(shown.count)")
            #expect(shown.first == extra - 1 && shown == shown.sorted(by: >), "newest first")
            #expect(!shown.contains(0), "the oldest of the added entries is not on the first page")
            #expect(first.contains("registros en esta página") && first.contains(">Ver más<"))
            var next = try #require(Self.nextLink(first), "a record longer than the window has a next page")
            #expect(next.hasPrefix("/expediente?desde="))
            // following *Ver más* reaches every entry, each once, and then ends
            var seen = shown
            var demoEntries = first.contains("Diabetes mellitus tipo 2")
            var pages = 1
            while pages < 40 {
                let (s, page) = try await browser.get(next, cookie: ana)
                #expect(s == .ok)
                pages += 1
                seen += Self.windowTitles(page)
                demoEntries = demoEntries || page.contains("Diabetes mellitus tipo 2")
                #expect(page.contains(">Volver a los más recientes<"), "a later page links back to the first")
                guard let n = Self.nextLink(page) else { break }
                next = n
            }
            #expect(pages >= 4 && pages < 40)
            #expect(seen.sorted() == Array(0..<extra), "every added entry on exactly one page")
            #expect(demoEntries, "the demo's own entries are reached too")
            // in English too, and with a type filter the pages keep the filter
            let (_, english) = try await browser.get("/expediente", cookie: ana + "; lang=en")
            #expect(english.contains(">Show more<") && english.contains("entries on this page"))
            let (_, results) = try await browser.get("/expediente?tipo=Observation", cookie: ana)
            #expect(Self.windowTitles(results).count == Portal.timelineWindow)
            #expect(Self.nextLink(results)?.hasPrefix("/expediente?tipo=Observation&desde=") == true)
            // a cursor this server did not issue is refused, not read as a page
            let (bad, _) = try await browser.get("/expediente?desde=no-es-un-cursor", cookie: ana)
            #expect(bad == .badRequest)
        }
    }

    @Test func summarySectionsAreBoundedAndLinkToTheRecord() async throws {
        try await PortalTests.withDemoPortal { services, browser in
            try await Self.addResults(services, Portal.summaryResults + 10)
            let ana = try await browser.signIn("ana")
            let (status, summary) = try await browser.get("/resumen", cookie: ana)
            #expect(status == .ok && summary.contains("Metformina"))
            let titles = summary.matches(of: /<strong>Ventana (\d+)<\/strong>/).compactMap { Int($0.1) }
            #expect(titles == Array((Portal.summaryResults - 5)..<(Portal.summaryResults + 10)).reversed(), "the 15 newest results")
            #expect(summary.contains("href=\"/expediente?tipo=Observation\">Ver todos en el expediente<"))
        }
    }

    /// A short record has no pages: everything on one, no *Ver más*.
    @Test func shortTimelineHasNoPages() async throws {
        try await PortalTests.withDemoPortal { _, browser in
            let lucia = try await browser.signIn("lucia")
            let (status, page) = try await browser.get("/expediente", cookie: lucia)
            #expect(status == .ok && Self.nextLink(page) == nil && !page.contains("Volver a los más recientes"))
            #expect(page.contains("de todas las instituciones."))
        }
    }
}
