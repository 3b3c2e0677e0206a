namespace OrleansOps.Domain;

/// <summary>
/// The outcome of <see cref="Drift.Detect"/>: whether the trend crosses the limit, the fitted line's slope (minutes per
/// incident), where it projects the KPI (minutes) and how many values it was fitted to.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record DriftResult(
    [property: Id(0)] bool Drifting,
    [property: Id(1)] double Slope,
    [property: Id(2)] double ProjectedMinutes,
    [property: Id(3)] int Points);

/// <summary>A KPI drifting toward its SLA window, seen in the trend before any single incident crosses it.</summary>
public static class Drift
{
    /// <summary>
    /// Fits a least-squares line y = a + b·x through the last <paramref name="window"/> values of
    /// <paramref name="minutes"/> (oldest first, e.g. resolution times in order of resolution), at x = 0, 1, …, n − 1:
    /// b = Σ(x − x̄)(y − ȳ) ÷ Σ(x − x̄)², a = ȳ − b·x̄. The projection is the line at x = n − 1 + <paramref name="lookahead"/>,
    /// that many incidents beyond the last. Drifting when there are at least <paramref name="minPoints"/> values, the slope is
    /// positive, and the projection reaches <paramref name="limitMinutes"/> (≥, the SLA window): 60, 70, 80, 90, 100
    /// against 120 has slope 10 and projects 100 + 3 × 10 = 130, so it is flagged while every value is still under 120.
    /// A flat series, or one whose noise leaves the line under the limit, is not flagged. With fewer than two values the
    /// slope is 0 and the projection the last value (0 for none).
    /// </summary>
    public static DriftResult Detect(IReadOnlyList<double> minutes, double limitMinutes, int lookahead = 3, int minPoints = 5, int window = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lookahead);
        ArgumentOutOfRangeException.ThrowIfLessThan(minPoints, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, minPoints);

        var recent = minutes.Skip(Math.Max(0, minutes.Count - window)).ToList();
        var n = recent.Count;
        if (n < 2) return new DriftResult(false, 0, n == 0 ? 0 : recent[0], n);

        var meanX = (n - 1) / 2.0;
        var meanY = recent.Average();
        double sxy = 0, sxx = 0;
        for (var x = 0; x < n; x++)
        {
            sxy += (x - meanX) * (recent[x] - meanY);
            sxx += (x - meanX) * (x - meanX);
        }
        var slope = sxy / sxx;
        var projected = meanY + slope * (n - 1 + lookahead - meanX);
        return new DriftResult(n >= minPoints && slope > 0 && projected >= limitMinutes, slope, projected, n);
    }
}
