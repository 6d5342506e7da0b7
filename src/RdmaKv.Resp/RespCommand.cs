using System.Buffers;

namespace RdmaKv.Resp;

/// <summary>
/// One parsed command: its arguments as slices of the connection's read buffer, valid until the
/// connection advances past them. A connection reuses one instance for every command.
/// </summary>
public sealed class RespCommand
{
    readonly List<ReadOnlySequence<byte>> _arguments = [];

    /// <summary>Arguments, the command's name first.</summary>
    public int Count => _arguments.Count;

    /// <summary>Argument <paramref name="index"/> as one span (copied only when it spans buffer segments).</summary>
    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            var slice = _arguments[index];
            return slice.IsSingleSegment ? slice.FirstSpan : slice.ToArray();
        }
    }

    /// <summary>Argument <paramref name="index"/> copied into its own array.</summary>
    public byte[] ToArray(int index) => _arguments[index].ToArray();

    /// <summary>Argument <paramref name="index"/> as Latin-1 text (names, options, numbers).</summary>
    public string Text(int index) => System.Text.Encoding.Latin1.GetString(this[index]);

    /// <summary>Whether argument <paramref name="index"/> is <paramref name="word"/>, ignoring ASCII case.</summary>
    public bool Is(int index, string word)
    {
        var argument = this[index];
        if (argument.Length != word.Length) return false;
        for (int i = 0; i < word.Length; i++)
            if (char.ToUpperInvariant((char)argument[i]) != char.ToUpperInvariant(word[i])) return false;
        return true;
    }

    internal void Clear() => _arguments.Clear();

    internal void Add(ReadOnlySequence<byte> argument) => _arguments.Add(argument);
}
