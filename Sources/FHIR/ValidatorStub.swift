// TEMPORARY: replaced by Validation/Validator.swift when the validator branch lands.
public struct Validator: Sendable {
    public init(definitions: Definitions = .r4) {}
    public func validate(_ resource: JSON) -> [Issue] { [] }
}
