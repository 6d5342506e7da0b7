namespace RdmaKv.Core;

/// <summary>What an exception says to a person: its message, without the parameter name an <see cref="ArgumentException"/> appends.</summary>
public static class ErrorText
{
    public static string Of(Exception e)
    {
        string message = e.Message;
        if (e is ArgumentException { ParamName: { } name })
        {
            string suffix = $" (Parameter '{name}')";
            if (message.EndsWith(suffix, StringComparison.Ordinal)) message = message[..^suffix.Length];
        }
        return message;
    }
}
