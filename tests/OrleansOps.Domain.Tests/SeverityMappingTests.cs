namespace OrleansOps.Domain.Tests;

public sealed class SeverityMappingTests
{
    [Theory]
    [InlineData("P1", Severity.Sev1)]
    [InlineData("P2", Severity.Sev2)]
    [InlineData("P3", Severity.Sev3)]
    [InlineData("P4", Severity.Sev4)]
    [InlineData("P5", Severity.Sev4)]
    [InlineData("p1", Severity.Sev1)]
    public void Priorities_map_explicitly(string priority, Severity expected) =>
        Assert.Equal(expected, SeverityMapping.FromPriority(priority));

    [Theory]
    [InlineData("P0")]
    [InlineData("P6")]
    [InlineData("critical")]
    [InlineData("")]
    public void Anything_else_is_not_a_priority(string priority) => Assert.Null(SeverityMapping.FromPriority(priority));

    [Theory]
    [InlineData("critical", Severity.Sev1)]
    [InlineData("error", Severity.Sev2)]
    [InlineData("warning", Severity.Sev3)]
    [InlineData("info", Severity.Sev4)]
    public void PagerDuty_severities_map_explicitly(string word, Severity expected) =>
        Assert.Equal(expected, SeverityMapping.FromPagerDuty(word));

    [Theory]
    [InlineData("Critical")]
    [InlineData("high")]
    [InlineData("sev1")]
    public void PagerDuty_accepts_only_its_four_words(string word) => Assert.Null(SeverityMapping.FromPagerDuty(word));

    [Theory]
    [InlineData("critical", Severity.Sev1)]
    [InlineData("page", Severity.Sev1)]
    [InlineData("high", Severity.Sev2)]
    [InlineData("major", Severity.Sev2)]
    [InlineData("warning", Severity.Sev3)]
    [InlineData("WARN", Severity.Sev3)]
    [InlineData("info", Severity.Sev4)]
    [InlineData("none", Severity.Sev4)]
    [InlineData("sev2", Severity.Sev2)]
    public void Alertmanager_severity_labels_map(string label, Severity expected) =>
        Assert.Equal(expected, SeverityMapping.FromWord(label));

    [Fact]
    public void Unknown_words_map_to_nothing_so_the_caller_chooses_the_default()
    {
        Assert.Null(SeverityMapping.FromWord("catastrophic"));
        Assert.Equal(Severity.Sev3, SeverityMapping.Default);
    }

    [Fact]
    public void Worst_is_the_more_severe() => Assert.Equal(Severity.Sev1, SeverityMapping.Worst(Severity.Sev3, Severity.Sev1));
}
