namespace OrleansOps.Domain.Tests;

public sealed class AlertFingerprintTests
{
    [Fact]
    public void Empty_label_set_is_the_FNV_offset_basis()
    {
        Assert.Equal("cbf29ce484222325", AlertFingerprint.Of(new Dictionary<string, string>()));
    }

    [Fact]
    public void Matches_the_prometheus_common_reference_vector()
    {
        // prometheus/common model fingerprinting_test (labelSetToFingerprint): → 5799056148416392346
        var fingerprint = AlertFingerprint.Of(new Dictionary<string, string> { ["name"] = "garland, briggs", ["fear"] = "love is not enough" });
        Assert.Equal(5799056148416392346UL, Convert.ToUInt64(fingerprint, 16));
        Assert.Equal(16, fingerprint.Length);
    }

    [Fact]
    public void Order_of_labels_does_not_matter()
    {
        var a = AlertFingerprint.Of(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3" });
        var b = AlertFingerprint.Of(new Dictionary<string, string> { ["c"] = "3", ["a"] = "1", ["b"] = "2" });
        Assert.Equal(a, b);
    }

    [Fact]
    public void Separator_keeps_name_and_value_boundaries_apart()
    {
        var a = AlertFingerprint.Of(new Dictionary<string, string> { ["ab"] = "c" });
        var b = AlertFingerprint.Of(new Dictionary<string, string> { ["a"] = "bc" });
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Names_sort_by_UTF8_bytes_like_Go()
    {
        // U+FF21 (fullwidth A, 3 UTF-8 bytes EF BC A1) sorts before U+1F600 (F0 ...) by bytes,
        // but after it by UTF-16 code units (FF21 > D83D). Go sorts by bytes.
        var labels = new Dictionary<string, string> { ["\uFF21"] = "x", ["\U0001F600"] = "y" };
        var expected = Fnv("\uFF21", "x", "\U0001F600", "y");
        Assert.Equal(expected, AlertFingerprint.Of(labels));
    }

    [Fact]
    public void Long_and_non_ASCII_texts_hash_their_UTF8_bytes()
    {
        // Past the stack buffer, accented and CJK text, a value outside the BMP and a lone surrogate (encoded as U+FFFD).
        var longValue = new string('x', 300) + "é";
        var labels = new Dictionary<string, string>
        {
            ["summary"] = longValue, ["zone"] = "Zürich", ["team"] = "検索", ["mood"] = "\U0001F600", ["broken"] = "a\uD800b",
        };
        var expected = Fnv("broken", "a\uD800b", "mood", "\U0001F600", "summary", longValue, "team", "検索", "zone", "Zürich");
        Assert.Equal(expected, AlertFingerprint.Of(labels));
    }

    [Fact]
    public void Any_read_only_dictionary_gives_the_same_fingerprint()
    {
        var labels = new Dictionary<string, string> { ["alertname"] = "Down", ["node"] = "a", ["severity"] = "critical" };
        Assert.Equal(AlertFingerprint.Of(labels), AlertFingerprint.Of(new SortedList<string, string>(labels)));
        Assert.Equal(AlertFingerprint.Of(labels), AlertFingerprint.Of(new System.Collections.ObjectModel.ReadOnlyDictionary<string, string>(labels)));
    }

    private static string Fnv(params string[] sequence)
    {
        var hash = 14695981039346656037UL;
        foreach (var part in sequence)
        {
            foreach (var b in System.Text.Encoding.UTF8.GetBytes(part)) hash = (hash ^ b) * 1099511628211UL;
            hash = (hash ^ 0xFF) * 1099511628211UL;
        }
        return hash.ToString("x16");
    }
}
