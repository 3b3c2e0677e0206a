namespace OrleansOps.Domain.Tests;

/// <summary>
/// Least-squares lines worked by hand, with x = 0 … n − 1: slope b = Σ(x − x̄)(y − ȳ) ÷ Σ(x − x̄)², and the projection
/// is ȳ + b × (n − 1 + lookahead − x̄). Limit 120 min is a 2 h resolution SLA.
/// </summary>
public sealed class DriftTests
{
    [Fact]
    public void Lengthening_resolution_times_are_flagged_before_any_crosses_the_SLA_window()
    {
        // 60, 70, 80, 90, 100: x̄ = 2, ȳ = 80, Σ(x − x̄)(y − ȳ) = (−2)(−20) + (−1)(−10) + 0 + 1·10 + 2·20 = 100,
        // Σ(x − x̄)² = 4 + 1 + 0 + 1 + 4 = 10, slope 10; three incidents beyond the last (x = 7): 80 + 10 × 5 = 130 ≥ 120.
        double[] series = [60, 70, 80, 90, 100];
        var result = Drift.Detect(series, 120);

        Assert.True(result.Drifting);
        Assert.Equal(10, result.Slope, 9);
        Assert.Equal(130, result.ProjectedMinutes, 9);
        Assert.Equal(5, result.Points);
        Assert.All(series, minutes => Assert.True(minutes < 120)); // not one incident has crossed it yet
    }

    [Fact]
    public void A_projection_short_of_the_limit_is_not_drifting_yet()
    {
        // 40, 50, 60, 70, 80: slope 10, ȳ = 60, projection 60 + 10 × 5 = 110 < 120.
        var result = Drift.Detect([40, 50, 60, 70, 80], 120);
        Assert.False(result.Drifting);
        Assert.Equal(10, result.Slope, 9);
        Assert.Equal(110, result.ProjectedMinutes, 9);
        // Looking four incidents ahead instead: 60 + 10 × 6 = 120, which reaches the limit.
        Assert.True(Drift.Detect([40, 50, 60, 70, 80], 120, lookahead: 4).Drifting);
    }

    [Fact]
    public void A_projection_exactly_at_the_limit_is_drifting()
    {
        // 50, 60, 70, 80, 90: ȳ = 70, projection 70 + 10 × 5 = 120 = the limit.
        var result = Drift.Detect([50, 60, 70, 80, 90], 120);
        Assert.Equal(120, result.ProjectedMinutes, 9);
        Assert.True(result.Drifting);
    }

    [Fact]
    public void A_flat_series_is_not_drifting()
    {
        var result = Drift.Detect([90, 90, 90, 90, 90, 90], 120);
        Assert.False(result.Drifting);
        Assert.Equal(0, result.Slope, 9);
        Assert.Equal(90, result.ProjectedMinutes, 9);
    }

    [Fact]
    public void A_noisy_series_under_the_limit_is_not_drifting()
    {
        // 60, 100, 70, 95, 65, 90, 75: x̄ = 3, ȳ = 555 ÷ 7 = 79.2857; Σ(x − x̄)·y = −180 − 200 − 70 + 0 + 65 + 180 + 225
        // = 20 (the same as Σ(x − x̄)(y − ȳ), since Σ(x − x̄) = 0); Σ(x − x̄)² = 9 + 4 + 1 + 0 + 1 + 4 + 9 = 28; slope
        // 20 ÷ 28 = 0.7143; projection at x = 9: 555 ÷ 7 + (20 ÷ 28) × 6 = 585 ÷ 7 = 83.5714 < 120. Rising a little, but
        // nowhere near the limit; 100 alone would have looked alarming.
        var result = Drift.Detect([60, 100, 70, 95, 65, 90, 75], 120);
        Assert.False(result.Drifting);
        Assert.Equal(0.7143, result.Slope, 4);
        Assert.Equal(83.5714, result.ProjectedMinutes, 4);
    }

    [Fact]
    public void A_falling_series_is_not_drifting_even_above_the_limit()
    {
        // 200, 180, 160, 140, 130: falling, slope negative; it is over the limit now, but that is a breach for the
        // resolution clocks to report, not a drift.
        var result = Drift.Detect([200, 180, 160, 140, 130], 120);
        Assert.True(result.Slope < 0);
        Assert.False(result.Drifting);
    }

    [Fact]
    public void Fewer_than_min_points_are_not_enough()
    {
        // 60, 80, 100, 110: x̄ = 1.5, ȳ = 87.5, Σ(x − x̄)·y = −90 − 40 + 50 + 165 = 85, Σ(x − x̄)² = 5, slope 17;
        // projection at x = 6: 87.5 + 17 × 4.5 = 164 ≥ 120, but 4 points are fewer than 5.
        var result = Drift.Detect([60, 80, 100, 110], 120);
        Assert.Equal(4, result.Points);
        Assert.Equal(17, result.Slope, 9);
        Assert.Equal(164, result.ProjectedMinutes, 9);
        Assert.False(result.Drifting);
        Assert.True(Drift.Detect([60, 80, 100, 110], 120, minPoints: 4).Drifting);
        Assert.False(Drift.Detect([], 120).Drifting);
        Assert.Equal(new DriftResult(false, 0, 70, 1), Drift.Detect([70], 120));
    }

    [Fact]
    public void Only_the_last_window_values_count()
    {
        // 300, 250, 200, 150, 100 and then 50, 55, …, 95. All 15 fall on average, but the last 10 (50 … 95) rise: slope
        // 5, x̄ = 4.5, ȳ = 72.5, projection at x = 12: 72.5 + 5 × 7.5 = 110 ≥ 110.
        double[] series = [300, 250, 200, 150, 100, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95];
        var result = Drift.Detect(series, 110);
        Assert.Equal(10, result.Points);
        Assert.Equal(5, result.Slope, 9);
        Assert.Equal(110, result.ProjectedMinutes, 9);
        Assert.True(result.Drifting);
        Assert.False(Drift.Detect(series, 110, window: 15).Drifting); // the whole series falls
    }

    [Fact]
    public void Parameters_out_of_range_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Drift.Detect([1, 2, 3], 10, lookahead: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Drift.Detect([1, 2, 3], 10, minPoints: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Drift.Detect([1, 2, 3], 10, minPoints: 5, window: 4));
    }
}
