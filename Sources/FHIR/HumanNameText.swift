/// How a person or an organization reads in a sentence: an Organization's `name`, else the
/// first HumanName's `text`, else its parts (`prefix` when asked, `given`, `family`).
public enum HumanNameText {
    public static func display(_ resource: JSON, withPrefix: Bool) -> String? {
        if let name = resource["name"]?.stringValue { return name }
        guard let n = resource["name"]?.arrayValue?.first else { return nil }
        if let text = n["text"]?.stringValue { return text }
        let prefix = withPrefix ? (n["prefix"]?.arrayValue ?? []).compactMap(\.stringValue) : []
        let words = prefix + (n["given"]?.arrayValue ?? []).compactMap(\.stringValue) + [n["family"]?.stringValue].compactMap { $0 }
        return words.isEmpty ? nil : words.joined(separator: " ")
    }
}
