import HipChatConnect
import Testing

@testable import HipKit

/// "Did you mean": the distance that ranks candidates, and the early stop that keeps a thousand
/// lookups against a thousand names fast.
@Suite struct SuggestionTests {
    /// The textbook table, with no early stop: what the bounded distance must agree with.
    static func fullDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in stride(from: 1, through: a.count, by: 1) {
            for j in stride(from: 1, through: b.count, by: 1) {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }

    @Test func boundedDistanceAgreesWithTheFullTable() {
        // Words over a small alphabet, so that swaps, repeats and near-misses are common.
        var generator = SplitMix64(seed: 0x5eed)
        // "é" (U+00E9) shares its bucket with "i", so the bag bound's bucketing is exercised.
        let alphabet: [Unicode.Scalar] = ["a", "b", "c", "i", "é", "-"]
        func word() -> [Unicode.Scalar] {
            (0..<Int(generator.next() % 9)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
        }
        var rows = Suggestion.Rows()
        for _ in 0..<3000 {
            let a = word()
            let b = word()
            let full = Self.fullDistance(a, b)
            var histogram = [Int](repeating: 0, count: Suggestion.buckets)
            for scalar in a { histogram[Suggestion.bucket(scalar)] += 1 }
            let before = histogram
            #expect(Suggestion.bagDistance(a.count, histogram: &histogram, b.map(Suggestion.bucket)) <= full)
            #expect(histogram == before)
            for limit in 0...4 {
                let bounded = Suggestion.distance(a, b, limit: limit, rows: &rows)
                #expect(
                    bounded == min(full, limit + 1),
                    "\(String(String.UnicodeScalarView(a))) / \(String(String.UnicodeScalarView(b))) limit \(limit)")
            }
        }
    }

    @Test func picksTheClosestLikelyTypo() {
        #expect(Suggestion.closest(to: "unistalled", in: ["installed", "uninstalled"]) == "uninstalled")
        #expect(Suggestion.closest(to: "SIDEBAR", in: ["sidebar", "sidebars"]) == "sidebar")
        #expect(Suggestion.closest(to: "dialgo-5", in: (0..<10).map { "dialog-\($0)" }) == "dialog-5")
        #expect(Suggestion.closest(to: "zzzz", in: ["sidebar", "dialog"]) == nil)
        // Of two at the same distance, the first is kept, as before the early stop.
        #expect(Suggestion.closest(to: "cat", in: ["bat", "car"]) == "bat")
        #expect(Suggestion.closest(to: String(repeating: "a", count: 65), in: ["a"]) == nil)
    }
}

/// A small deterministic generator, so that a failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
