/// A problem a client is told about, as one `OperationOutcome.issue`
/// (https://hl7.org/fhir/R4/operationoutcome.html).
public struct Issue: Sendable, Equatable {
    /// `fatal | error | warning | information`
    public enum Severity: String, Sendable { case fatal, error, warning, information }

    public var severity: Severity
    /// An IssueType code (http://hl7.org/fhir/R4/valueset-issue-type.html): `invalid`,
    /// `structure`, `required`, `value`, `code-invalid`, `not-found`, `deleted`, `conflict`, …
    public var code: String
    /// English message (goes to `diagnostics`).
    public var english: String
    /// Spanish (es-MX) message (goes to `details.text`).
    public var spanish: String
    /// FHIRPath-style locations, e.g. `Patient.name[0].given[1]`.
    public var expression: [String]

    public init(_ severity: Severity = .error, code: String, english: String, spanish: String, expression: [String] = []) {
        self.severity = severity
        self.code = code
        self.english = english
        self.spanish = spanish
        self.expression = expression
    }

    public var json: JSON {
        var m: [(String, JSON)] = [
            ("severity", .string(severity.rawValue)),
            ("code", .string(code)),
            ("details", .object([("text", .string(spanish))])),
            ("diagnostics", .string(english)),
        ]
        if !expression.isEmpty { m.append(("expression", .array(expression.map { .string($0) }))) }
        return .object(m)
    }
}

/// An error a FHIR interaction answers with: an HTTP status and the issues of the
/// OperationOutcome that explains it.
public struct FHIRError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var issues: [Issue]
    /// Extra response headers (e.g. `Allow` on 405).
    public var headers: [String: String]

    public init(status: Int, issues: [Issue], headers: [String: String] = [:]) {
        self.status = status
        self.issues = issues
        self.headers = headers
    }

    public init(status: Int, code: String, english: String, spanish: String, expression: [String] = []) {
        self.init(status: status, issues: [Issue(code: code, english: english, spanish: spanish, expression: expression)])
    }

    public var description: String {
        "HTTP \(status): " + issues.map { "\($0.code): \($0.english)" }.joined(separator: "; ")
    }

    public var operationOutcome: JSON { OperationOutcome.make(issues) }

    // Common errors, so every module words them the same way.
    public static func notFound(_ type: String, _ id: String) -> FHIRError {
        FHIRError(status: 404, code: "not-found",
                  english: "\(type)/\(id) is not known",
                  spanish: "No se encontró \(type)/\(id)")
    }

    public static func gone(_ type: String, _ id: String) -> FHIRError {
        FHIRError(status: 410, code: "deleted",
                  english: "\(type)/\(id) has been deleted",
                  spanish: "\(type)/\(id) fue eliminado")
    }

    public static func unknownType(_ type: String) -> FHIRError {
        FHIRError(status: 404, code: "not-supported",
                  english: "'\(type)' is not an R4 resource type",
                  spanish: "'\(type)' no es un tipo de recurso de FHIR R4")
    }

    public static func badRequest(_ english: String, _ spanish: String, code: String = "invalid") -> FHIRError {
        FHIRError(status: 400, code: code, english: english, spanish: spanish)
    }
}

public enum OperationOutcome {
    public static func make(_ issues: [Issue]) -> JSON {
        .object([
            ("resourceType", .string("OperationOutcome")),
            ("issue", .array(issues.map(\.json))),
        ])
    }

    /// An informational outcome (`Prefer: return=OperationOutcome`, successful `$validate`).
    public static func information(_ english: String, _ spanish: String) -> JSON {
        make([Issue(.information, code: "informational", english: english, spanish: spanish)])
    }
}
