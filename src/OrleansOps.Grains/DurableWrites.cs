using Orleans.Runtime;

namespace OrleansOps.Grains;

public static class DurableWrites
{
    /// <summary>
    /// Writes the state. When the write fails, the activation is dropped, so the changes it made in memory and
    /// could not save never leak into a later call: the next call reads what storage really holds.
    /// </summary>
    public static async Task WriteOrDiscardAsync<T>(this IPersistentState<T> state, IGrainBase grain)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            grain.DeactivateOnIdle();
            throw;
        }
    }
}
