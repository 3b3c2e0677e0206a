using System.Globalization;
using BenchmarkDotNet.Running;

// Rule texts and figures are formatted; keep them the same on every machine.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// BenchmarkDotNet's own command line: --filter '*', --job short, --list flat, ...
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
