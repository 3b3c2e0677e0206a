namespace OrleansOps.Grains;

public static class StorageNames
{
    /// <summary>The grain storage provider every OrleansOps grain uses.</summary>
    public const string Grains = "orleansops";
}
