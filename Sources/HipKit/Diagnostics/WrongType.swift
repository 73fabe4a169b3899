/// Hints for a value of the wrong kind, shared by every reader that reports one.
enum WrongType {
    /// How to write a value of the `expected` kind, for a field given another kind, in YAML (an
    /// `addon.yaml`, front matter) or, with `json`, in JSON (a descriptor file); nil where the
    /// message says enough. `given` is the scalar written, when there is one.
    static func hint(expected: String, json: Bool = false, given: String? = nil) -> String? {
        if expected == "a whole number" { return "write the number in digits, without quotes, such as 100" }
        if expected == "true or false" {
            // YAML 1.1's words for booleans, which YAML 1.2 (and hipkit) reads as text: no quotes
            // to take away there.
            if let given, ["yes", "no", "on", "off", "y", "n"].contains(given.lowercased()) {
                return "write true or false"
            }
            return "write true or false, without quotes"
        }
        if expected.hasPrefix("a list") {
            return json
                ? "write a list in brackets: [first, second]"
                : "write [first, second] on the field's line, or each item on a line of its own below it, after '- '"
        }
        if expected == "text" || expected == "a string" {
            return json ? "write it in double quotes: \"…\"" : "quote it to make it text: \"…\""
        }
        return nil
    }
}
