namespace FailureSynth.Redis;

/// <summary>The condition a conditional write (SET NX / SET XX) needs, named as in StackExchange.Redis.</summary>
public enum When
{
    /// <summary>Write unconditionally.</summary>
    Always,

    /// <summary>Write only when the key already exists (XX).</summary>
    Exists,

    /// <summary>Write only when the key does not exist yet (NX).</summary>
    NotExists,
}
