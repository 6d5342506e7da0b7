using System.Text.Json;

namespace RdmaKv.Deploy.Tests;

/// <summary>One instruction of a Dockerfile, its continuation lines joined: <c>RUN a \ &amp;&amp; b</c> is one.</summary>
sealed record DockerInstruction(string Keyword, string Arguments)
{
    /// <summary>The shell commands of a RUN, split at <c>&amp;&amp;</c>.</summary>
    public IEnumerable<string> Commands => Arguments.Split("&&", StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The exec form's JSON array (<c>["dotnet", "x.dll"]</c>).</summary>
    public string[] ExecForm => JsonSerializer.Deserialize<string[]>(Arguments) ?? [];
}

/// <summary>A Dockerfile's build stages, each from its FROM to the next; enough of the format to check deploy/Dockerfile.</summary>
sealed class DockerfileModel
{
    public required IReadOnlyList<IReadOnlyList<DockerInstruction>> Stages { get; init; }

    public static DockerfileModel Load(string path)
    {
        var stages = new List<List<DockerInstruction>>();
        string pending = "";
        foreach (string raw in File.ReadAllLines(path))
        {
            string line = raw.Trim();
            if (pending.Length == 0 && (line.Length == 0 || line.StartsWith('#'))) continue;
            if (pending.Length > 0 && line.StartsWith('#')) continue;
            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }
            string whole = pending + line;
            pending = "";
            int space = whole.IndexOf(' ');
            Assert.True(space > 0, $"'{whole}' in {path} is not KEYWORD ARGUMENTS");
            var instruction = new DockerInstruction(whole[..space].ToUpperInvariant(), whole[(space + 1)..].Trim());
            if (instruction.Keyword == "FROM") stages.Add([]);
            Assert.True(stages.Count > 0, $"{path} has '{whole}' before its first FROM");
            stages[^1].Add(instruction);
        }
        Assert.True(pending.Length == 0, $"{path} ends inside a continued line");
        return new DockerfileModel { Stages = stages };
    }

    public static IEnumerable<DockerInstruction> Of(IReadOnlyList<DockerInstruction> stage, string keyword) => stage.Where(i => i.Keyword == keyword);
}
