/// Hints for a value of the wrong kind, shared by every reader that reports one.
enum WrongType {
    /// How to write a value of the `expected` kind in YAML, for a field given another kind;
    /// nil where the message says enough.
    static func hint(expected: String) -> String? {
        if expected == "a whole number" { return "write the number in digits, without quotes, such as 100" }
        if expected == "true or false" { return "write true or false, without quotes" }
        if expected.hasPrefix("a list") {
            return "write [first, second] on the field's line, or each item on a line of its own below it, after '- '"
        }
        if expected == "text" || expected == "a string" { return "quote it to make it text: \"…\"" }
        return nil
    }
}
