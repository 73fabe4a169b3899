import HipChatConnect

/// "Did you mean …?" for misspelt names.
public enum Suggestion {
    /// The candidate closest to `word`, when it is close enough to be a likely typo: a case-only
    /// difference, or an edit distance of at most a third of the word (at least 1, at most 3).
    public static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        Candidates(candidates).closest(to: word)
    }

    /// A hint sentence for `closest(to:in:)`, or nil.
    public static func hint(for word: String, in candidates: some Sequence<String>) -> String? {
        closest(to: word, in: candidates).map { "did you mean '\($0)'?" }
    }

    /// Names prepared once (lower-cased, split into scalars) for many lookups: a descriptor with
    /// a thousand misspelt targets asks a thousand times against the same keys.
    public struct Candidates: Sendable {
        private let names: [(name: String, lowered: [Unicode.Scalar], buckets: [Int])]

        public init(_ names: some Sequence<String>) {
            self.names = names.map {
                let lowered = Array($0.lowercased().unicodeScalars)
                return ($0, lowered, lowered.map(Suggestion.bucket))
            }
        }

        /// See ``Suggestion/closest(to:in:)``.
        public func closest(to word: String) -> String? {
            // Names are short; a long value is no typo of one, and comparing it would cost time.
            guard word.count <= 64 else { return nil }
            let lowered = Array(word.lowercased().unicodeScalars)
            let allowed = min(3, max(1, word.count / 3))
            var best: (name: String, distance: Int)?
            var rows = Suggestion.Rows()
            // How many of each character (by bucket) the word has: see `bagDistance`.
            var histogram = [Int](repeating: 0, count: Suggestion.buckets)
            for scalar in lowered { histogram[Suggestion.bucket(scalar)] += 1 }
            for candidate in names where candidate.name != word {
                if candidate.lowered == lowered { return candidate.name }
                // Only a candidate within `allowed` edits can be the answer, and only one closer
                // than the best so far can replace it; the distance stops counting past that.
                let limit = min(allowed, (best?.distance ?? allowed + 1) - 1)
                guard limit >= 0, abs(candidate.lowered.count - lowered.count) <= limit,
                    Suggestion.bagDistance(lowered.count, histogram: &histogram, candidate.buckets) <= limit
                else { continue }
                let d = Suggestion.distance(lowered, candidate.lowered, limit: limit, rows: &rows)
                if d <= limit { best = (candidate.name, d) }
            }
            return best?.name
        }

        /// A hint sentence for ``closest(to:)``, or nil.
        public func hint(for word: String) -> String? {
            closest(to: word).map { "did you mean '\($0)'?" }
        }
    }

    static let buckets = 128

    /// Characters sorted into a few buckets (ASCII by itself), to count them cheaply.
    static func bucket(_ scalar: Unicode.Scalar) -> Int { Int(scalar.value) % buckets }

    /// A lower bound of the distance, from the characters alone, in two short passes: each edit
    /// adds or removes at most one character of each side (a swap none), so the distance is at
    /// least the larger count of characters one side has and the other lacks. Bucketing can
    /// only make the counts smaller, so the bound holds. `histogram` holds the word's counts
    /// and is left as it was found.
    static func bagDistance(_ wordCount: Int, histogram: inout [Int], _ candidate: [Int]) -> Int {
        var missing = 0  // characters of the candidate the word lacks
        // Plain loops over raw buffers: this runs for every candidate of every lookup, and
        // unoptimised (debug) builds would otherwise spend most of it in generic iterators.
        histogram.withUnsafeMutableBufferPointer { counts in
            candidate.withUnsafeBufferPointer { buckets in
                var i = 0
                while i < buckets.count {
                    counts[buckets[i]] -= 1
                    if counts[buckets[i]] < 0 { missing += 1 }
                    i += 1
                }
                i = 0
                while i < buckets.count {
                    counts[buckets[i]] += 1
                    i += 1
                }
            }
        }
        let extra = wordCount - (candidate.count - missing)  // characters of the word the candidate lacks
        return max(missing, extra)
    }

    /// The three rows of the distance table, kept between calls so a lookup allocates once.
    struct Rows {
        var previous2: [Int] = []
        var previous: [Int] = []
        var current: [Int] = []
    }

    /// The Damerau–Levenshtein distance (optimal string alignment: a swapped pair of letters,
    /// as in `unistalled`, counts as one edit) of `a` and `b`, or `limit + 1` as soon as it is
    /// sure to exceed `limit`.
    static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar], limit: Int, rows: inout Rows) -> Int {
        if a.isEmpty { return min(b.count, limit + 1) }
        if b.isEmpty { return min(a.count, limit + 1) }
        let width = b.count + 1
        if rows.current.count < width {
            rows = Rows(
                previous2: [Int](repeating: 0, count: width), previous: [Int](repeating: 0, count: width),
                current: [Int](repeating: 0, count: width))
        }
        for j in 0..<width { rows.previous[j] = j }
        for i in 1...a.count {
            rows.current[0] = i
            var rowMinimum = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(rows.previous[j] + 1, rows.current[j - 1] + 1, rows.previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, rows.previous2[j - 2] + 1)
                }
                rows.current[j] = value
                rowMinimum = min(rowMinimum, value)
            }
            // Row minima never fall (a cell is at most one more than the one above it, so a swap
            // reaching back two rows gains nothing): past the limit, the distance stays past it.
            if rowMinimum > limit { return limit + 1 }
            swap(&rows.previous2, &rows.previous)
            swap(&rows.previous, &rows.current)
        }
        return min(rows.previous[b.count], limit + 1)
    }
}
