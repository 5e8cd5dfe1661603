/// The `p` quantile (0...1) of `values` by nearest rank, as the benchmark tables report it; NaN
/// when there are no values.
func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(Int(Double(sorted.count - 1) * p + 0.5), sorted.count - 1)]
}
