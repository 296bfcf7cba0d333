extension Duration {
    /// Longer than anything the engine waits for (`Int64.max` seconds, ~292 billion years): a time
    /// limit this long is no limit.
    package static let forever = Duration.seconds(Int64.max)

    /// A number of seconds a user gave, as a duration: ``forever`` past what a `Duration` holds
    /// (`1e300`, infinity; NaN too), zero below zero.
    package static func seconds(saturating seconds: Double) -> Duration {
        seconds < 1e18 ? .seconds(max(seconds, 0)) : .forever
    }
}
