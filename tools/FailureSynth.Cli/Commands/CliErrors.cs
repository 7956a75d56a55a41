using FailureSynth.Datasets;

namespace FailureSynth.Cli.Commands;

/// <summary>
/// Turns the errors a user can cause (bad arguments, malformed files, unreadable paths) into one
/// clear line on stderr and exit code 1, instead of a stack trace. Bugs still surface in full.
/// </summary>
public static class CliErrors
{
    public static int Guard(Func<int> action)
    {
        try { return action(); }
        catch (Exception e) when (IsUserError(e)) { return Report(e); }
    }

    public static async Task<int> GuardAsync(Func<Task<int>> action)
    {
        try { return await action(); }
        catch (Exception e) when (IsUserError(e)) { return Report(e); }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Cancelled. Finished stages are kept: rerun the same command to resume.");
            return 130;
        }
    }

    private static bool IsUserError(Exception e) => e is DatasetFormatException or ArgumentException or InvalidDataException
        or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException
        or FailureSynth.Loop.Campaigns.CampaignConfigException or FailureSynth.World.ProfileFileException
        or FailureSynth.TinyVlm.Torch.TorchUnavailableException or NotSupportedException
        or InvalidOperationException { Source: "FailureSynth.TinyVlm" };

    private static int Report(Exception e)
    {
        string message = e.Message;
        // ArgumentException appends " (Parameter 'name')", which names our code, not the user's input.
        if (e is ArgumentException { ParamName: { } name })
            message = message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
        Console.Error.WriteLine($"error: {message}");
        return 1;
    }
}
