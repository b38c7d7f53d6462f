import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Trust

extension Portal {
    /// *Mis pacientes* (`/pacientes`): for a clinician, the patients with a treating
    /// relationship — a Patient search through the guarded repository, which already limits it to
    /// them. `q` narrows by name or CURP.
    func patientsPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        guard s.principal.effectiveRole == .practitioner else {
            throw FHIRError(status: 403, code: "forbidden", english: "for clinicians", spanish: "para personal clínico")
        }
        let g = try await guarded(s, context)
        let q = (OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:])["q"]?.trimmingCharacters(in: .whitespaces) ?? ""
        var parameters: [(String, String)] = [("_count", "200"), ("_total", "none")]
        if !q.isEmpty {
            if q.count == 18, q.allSatisfy({ $0.isLetter || $0.isNumber }) {
                parameters.append(("identifier", q.uppercased()))
            } else {
                parameters.append(("name", q))
            }
        }
        var options = SearchParser.Options()
        options.maxCount = 200
        let (query, _) = try SearchParser(options: options).parse(types: ["Patient"], parameters: parameters)
        let patients = try await g.search(query).matches.filter { !$0.deleted }.compactMap { try? $0.json() }.sorted { Portal.name($0) < Portal.name($1) }
        var body = """
            <form method="get" action="/pacientes" class="search" role="search">
            <label for="q">\(esc(t.searchPatients))</label>
            <div class="row"><input type="search" id="q" name="q" value="\(esc(q))"><button type="submit">\(esc(t.search))</button></div>
            </form>
            <p class="hint">\(esc(t.patientsLead(patients.count)))</p>
            """
        body += "<p class=\"ask\"><a href=\"/solicitar-acceso\">\(esc(t.requestAccessLink))</a></p>"
        if patients.isEmpty {
            body += "<p>\(esc(t.noPatients))</p>"
        } else {
            body += "<ul class=\"patients\">"
            for p in patients {
                let id = p["id"]?.stringValue ?? ""
                let curp = p["identifier"]?.arrayValue?.first { ($0["system"]?.stringValue ?? "").lowercased().contains("curp") }?["value"]?.stringValue ?? ""
                body += "<li><a href=\"/pacientes/\(esc(id))\">\(esc(Portal.name(p)))</a> <span class=\"mono hint\">\(esc(curp))</span>"
                body += " <span class=\"hint\">\(esc(p["birthDate"]?.stringValue ?? ""))</span></li>"
            }
            body += "</ul>"
        }
        return html(.ok, layout(s, request, title: t.navPatients, body: body))
    }
}
