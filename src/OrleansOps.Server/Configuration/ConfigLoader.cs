using OrleansOps.Configuration;

namespace OrleansOps.Server.Configuration;

/// <summary>
/// Applies every <c>*.yaml</c>/<c>*.yml</c> account file in the config folder at start-up. A file is applied
/// again only when its content changed since it was last applied, so edits made over the API survive a restart
/// of an unchanged file. An invalid file stops the start with a message that names it.
/// </summary>
public sealed class ConfigLoader(IGrainFactory grains, ILogger<ConfigLoader> logger)
{
    public async Task LoadAsync(string folder, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(folder))
        {
            logger.LogWarning("No configuration folder at {Folder}; starting without file-declared accounts", folder);
            return;
        }
        var files = Directory.EnumerateFiles(folder, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToList();
        foreach (var file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var text = await File.ReadAllTextAsync(file, cancellationToken);
            var (config, errors) = YamlAccountConfig.ToDomain(text);
            if (config is null) throw new InvalidConfigurationException(file, errors);

            var result = await grains.GetGrain<IAccountGrain>(config.Id).ApplyConfig(config, ConfigSource.File(file, ConfigText.Hash(text)));
            if (result.Errors.Count > 0) throw new InvalidConfigurationException(file, result.Errors);
            logger.LogInformation(result.Applied ? "Applied account {Account} from {File} (version {Version})" : "Account {Account} from {File} is unchanged (version {Version})",
                config.Id, file, result.Version);
        }
    }
}

public sealed class InvalidConfigurationException(string file, IReadOnlyList<string> errors)
    : Exception($"Invalid account configuration in {file}:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors));
