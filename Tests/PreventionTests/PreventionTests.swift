import FHIR
import Foundation
@testable import Prevention
import Testing

// The Prevention module's tests (Swift Testing). HTTP-level tests of its routes live in
// Tests/ServerTests, process-level ones in tests/e2e.
