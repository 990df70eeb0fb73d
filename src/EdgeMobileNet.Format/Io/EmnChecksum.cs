using System.IO.Hashing;

namespace EdgeMobileNet.Format.Io;

/// <summary>CRC-32C (Castagnoli: reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF).</summary>
internal static class EmnChecksum
{
    public static uint Compute(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data);

    /// <summary>
    /// The header checksum: CRC-32C over header bytes 0..59 followed by the whole section table.
    /// </summary>
    public static uint ComputeHeader(ReadOnlySpan<byte> header, ReadOnlySpan<byte> sectionTable)
    {
        var crc = new Crc32(Crc32ParameterSet.Crc32C);
        crc.Append(header[..EmnFormat.HeaderCrcOffset]);
        crc.Append(sectionTable);
        return crc.GetCurrentHashAsUInt32();
    }
}
