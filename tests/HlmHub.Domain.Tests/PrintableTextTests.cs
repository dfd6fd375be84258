using System.Text;

namespace HlmHub.Domain.Tests;

public sealed class PrintableTextTests
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    [Theory]
    [InlineData("abc", 3, "abc")]
    [InlineData("abcd", 3, "abc…")]
    [InlineData("ab😀", 3, "ab…")] // the cut would split the pair: the emoji goes whole
    [InlineData("ab😀", 4, "ab😀")]
    [InlineData("ab😀x", 4, "ab😀…")]
    [InlineData("😀", 1, "…")]
    public void Cut_KeepsWholeCharactersOnly(string value, int maxLength, string expected)
    {
        Assert.Equal(expected, PrintableText.Cut(value, maxLength, "…"));
    }

    [Fact]
    public void Storable_ReplacesNulAndLoneSurrogates_AndKeepsPairsAndLengths()
    {
        var value = "a\0b\uD83Dc\uDE00d😀";

        var storable = PrintableText.Storable(value);

        Assert.Equal("a\uFFFDb\uFFFDc\uFFFDd😀", storable);
        Assert.Equal(value.Length, storable.Length);
        Assert.Equal("x\uFFFD", PrintableText.Cut("x\uDE00" + "yz", 2));
        StrictUtf8.GetByteCount(storable);
    }

    [Theory]
    [InlineData("REF-001 é 😀", true)]
    [InlineData("a\0b", false)]
    [InlineData("line\nbreak", false)]
    public void Is_RefusesControlCharacters(string value, bool printable)
    {
        Assert.Equal(printable, PrintableText.Is(value));
    }

    [Fact]
    public void Is_RefusesLoneSurrogates_WhichNoUtf8CanEncode()
    {
        Assert.False(PrintableText.Is("\uD83D"));
        Assert.False(PrintableText.Is("x\uDE00y"));
        Assert.False(PrintableText.Is("\uDE00\uD83D"));
    }
}
