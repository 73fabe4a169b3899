extension Duration {
    /// The duration in milliseconds, with its fraction: what timings shown to people and APIs
    /// counting in milliseconds (`poll(2)`, an event stream's `retry:`) want, worked out once
    /// instead of from `components` at each of them.
    public var inMilliseconds: Double { self / .milliseconds(1) }
}
