// Marks one symbol-version requirement of an ELF shared library weak (VER_FLG_WEAK in its .gnu.version_r entry), so the
// dynamic loader no longer refuses the library on a system whose library lacks that version. Compiled twice: by MSBuild
// as an inline task (eng/torchsharp/TorchSharpNative.targets) and by the TinyVlm.Torch tests (ELF_PATCH_LIBRARY defined,
// which leaves the MSBuild task out), which run it on the real libLibTorchSharp.so.
//
// Why this is safe for the one use it has: libLibTorchSharp.so 0.107.0 asks for GLIBCXX_3.4.32 only for the marker symbol
// std::ios_base_library_init (GCC 13 emits a reference to it from <iostream>; it has no code behind it that anything calls).
// The patcher refuses to weaken a version that any other symbol needs, so a real dependency is never hidden.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace FailureSynth.Build
{
    /// <summary>What <see cref="ElfVersionNeeds.MarkWeak"/> did.</summary>
    public enum WeakVersionOutcome
    {
        /// <summary>The requirement was strong and is now weak.</summary>
        Marked,

        /// <summary>The requirement was weak already (a patched file); nothing was written.</summary>
        AlreadyWeak,

        /// <summary>The file does not require that version of that library; nothing was written.</summary>
        NotRequired,
    }

    /// <summary>Reads and edits the version requirements (.gnu.version_r) of a 64-bit little-endian ELF file.</summary>
    public static class ElfVersionNeeds
    {
        private const uint ShtDynsym = 11;
        private const uint ShtGnuVersym = 0x6fffffff;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlgWeak = 0x2;

        /// <summary>One required version: the library that must provide it, its name, flags, its index in .gnu.version and where its flags are stored.</summary>
        public sealed class Requirement
        {
            public Requirement(string library, string version, ushort flags, ushort index, long flagsOffset)
            {
                Library = library;
                Version = version;
                Flags = flags;
                Index = index;
                FlagsOffset = flagsOffset;
            }

            public string Library { get; }
            public string Version { get; }
            public ushort Flags { get; }
            public ushort Index { get; }
            public long FlagsOffset { get; }
            public bool IsWeak => (Flags & VerFlgWeak) != 0;
        }

        /// <summary>Every version requirement of the ELF file <paramref name="bytes"/> (<paramref name="source"/> names it in errors).</summary>
        public static List<Requirement> Read(byte[] bytes, string source)
        {
            var sections = Sections(bytes, source);
            var result = new List<Requirement>();
            foreach (var s in sections)
            {
                if (s.Type != ShtGnuVerneed) continue;
                var strings = Linked(sections, s.Link, source);
                long entry = s.Offset;
                for (uint i = 0; i < s.Info; i++)
                {
                    Need(bytes, entry + 16, source);
                    var count = U16(bytes, entry + 2);
                    var library = Str(bytes, strings.Offset + U32(bytes, entry + 4), source);
                    long aux = entry + U32(bytes, entry + 8);
                    for (var j = 0; j < count; j++)
                    {
                        Need(bytes, aux + 16, source);
                        result.Add(new Requirement(library, Str(bytes, strings.Offset + U32(bytes, aux + 8), source), U16(bytes, aux + 4), U16(bytes, aux + 6), aux + 4));
                        var nextAux = U32(bytes, aux + 12);
                        if (nextAux == 0) break;
                        aux += nextAux;
                    }

                    var next = U32(bytes, entry + 12);
                    if (next == 0) break;
                    entry += next;
                }
            }

            return result;
        }

        /// <summary>Names of the dynamic symbols bound to version index <paramref name="index"/> (through .gnu.version).</summary>
        public static List<string> SymbolsOfVersion(byte[] bytes, ushort index, string source)
        {
            var sections = Sections(bytes, source);
            var result = new List<string>();
            Section? dynsym = null, versym = null;
            foreach (var s in sections)
            {
                if (s.Type == ShtDynsym) dynsym = s;
                if (s.Type == ShtGnuVersym) versym = s;
            }

            if (dynsym is null || versym is null) return result;
            var strings = Linked(sections, dynsym.Link, source);
            var count = dynsym.Size / 24;
            for (long i = 0; i < count; i++)
            {
                Need(bytes, versym.Offset + 2 * i + 2, source);
                if ((U16(bytes, versym.Offset + 2 * i) & 0x7fff) != index) continue;
                result.Add(Str(bytes, strings.Offset + U32(bytes, dynsym.Offset + 24 * i), source));
            }

            return result;
        }

        /// <summary>
        /// Marks the requirement of <paramref name="version"/> from <paramref name="library"/> weak in the file at
        /// <paramref name="path"/>, provided only symbols in <paramref name="allowedSymbols"/> use it. Writes a new file
        /// and moves it over the old one, so a hard link to a shared copy (the NuGet cache) is never edited.
        /// </summary>
        public static WeakVersionOutcome MarkWeak(string path, string library, string version, ICollection<string> allowedSymbols)
        {
            var bytes = File.ReadAllBytes(path);
            Requirement? found = null;
            foreach (var r in Read(bytes, path))
            {
                if (r.Library == library && r.Version == version) found = r;
            }

            if (found is null) return WeakVersionOutcome.NotRequired;
            if (found.IsWeak) return WeakVersionOutcome.AlreadyWeak;
            var users = SymbolsOfVersion(bytes, found.Index, path);
            foreach (var symbol in users)
            {
                if (!allowedSymbols.Contains(symbol))
                    throw new InvalidDataException($"{path}: {version} of {library} is needed by {symbol}, not only by the allowed marker symbols ({string.Join(", ", allowedSymbols)}); refusing to mark it weak, since the library would then fail at run time instead of at load time.");
            }

            var flags = (ushort)(found.Flags | VerFlgWeak);
            bytes[found.FlagsOffset] = (byte)flags;
            bytes[found.FlagsOffset + 1] = (byte)(flags >> 8);
            var temporary = path + ".weak-version.tmp";
            File.WriteAllBytes(temporary, bytes);
            // Delete then move (not an overwriting copy): a hard-linked output file gets a new inode, the shared copy stays as it was.
            File.Delete(path);
            File.Move(temporary, path);
            return WeakVersionOutcome.Marked;
        }

        private sealed class Section
        {
            public uint Type;
            public long Offset;
            public long Size;
            public uint Link;
            public uint Info;
        }

        private static List<Section> Sections(byte[] bytes, string source)
        {
            if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
                throw new InvalidDataException($"{source} is not an ELF file.");
            if (bytes[4] != 2 || bytes[5] != 1)
                throw new InvalidDataException($"{source} is not a 64-bit little-endian ELF file (class {bytes[4]}, data {bytes[5]}).");
            long sectionTable = (long)U64(bytes, 0x28);
            var entrySize = U16(bytes, 0x3A);
            var count = U16(bytes, 0x3C);
            if (entrySize < 64) throw new InvalidDataException($"{source}: section header entries of {entrySize} bytes (64 expected).");
            var sections = new List<Section>(count);
            for (var i = 0; i < count; i++)
            {
                long h = sectionTable + (long)i * entrySize;
                Need(bytes, h + 64, source);
                sections.Add(new Section { Type = U32(bytes, h + 4), Offset = (long)U64(bytes, h + 24), Size = (long)U64(bytes, h + 32), Link = U32(bytes, h + 40), Info = U32(bytes, h + 44) });
            }

            return sections;
        }

        private static Section Linked(List<Section> sections, uint index, string source) =>
            index < sections.Count ? sections[(int)index] : throw new InvalidDataException($"{source}: section link {index} is outside the section table.");

        private static void Need(byte[] bytes, long end, string source)
        {
            if (end > bytes.Length || end < 0) throw new InvalidDataException($"{source}: truncated ELF structure (needs byte {end}, file has {bytes.Length}).");
        }

        private static ushort U16(byte[] b, long o) => (ushort)(b[o] | b[o + 1] << 8);
        private static uint U32(byte[] b, long o) => BitConverter.ToUInt32(b, (int)o);
        private static ulong U64(byte[] b, long o) => BitConverter.ToUInt64(b, (int)o);

        private static string Str(byte[] b, long o, string source)
        {
            Need(b, o + 1, source);
            var end = o;
            while (end < b.Length && b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, (int)o, (int)(end - o));
        }
    }

#if !ELF_PATCH_LIBRARY
    /// <summary>The MSBuild step: marks <see cref="Version"/> of <see cref="Library"/> weak in <see cref="File"/> when present.</summary>
    public sealed class MarkElfVersionWeak : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public string File { get; set; } = "";

        [Microsoft.Build.Framework.Required]
        public string Library { get; set; } = "";

        [Microsoft.Build.Framework.Required]
        public string Version { get; set; } = "";

        [Microsoft.Build.Framework.Required]
        public string AllowedSymbols { get; set; } = "";

        public override bool Execute()
        {
            try
            {
                var allowed = new HashSet<string>(AllowedSymbols.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries));
                var outcome = ElfVersionNeeds.MarkWeak(File, Library, Version, allowed);
                // High importance: the change to a shipped binary must show in every build log.
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                    outcome == WeakVersionOutcome.Marked ? $"TorchSharp native: marked {Version} of {Library} weak in {File} (only {AllowedSymbols} needs it)."
                    : outcome == WeakVersionOutcome.AlreadyWeak ? $"TorchSharp native: {Version} of {Library} is already weak in {File}."
                    : $"TorchSharp native: {File} does not require {Version} of {Library}; left as it is.");
                return true;
            }
            catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
            {
                Log.LogError($"TorchSharp native: could not mark {Version} weak in {File}: {e.Message}");
                return false;
            }
        }
    }
#endif
}
