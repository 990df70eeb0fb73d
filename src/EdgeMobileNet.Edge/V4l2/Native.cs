using System.Runtime.InteropServices;

namespace EdgeMobileNet.Edge.V4l2;

/// <summary>Linux _IOC encoding (asm-generic/ioctl.h, used by x86-64 and arm64): dir:2 | size:14 | type:8 | nr:8.</summary>
public static class Ioc
{
    public const uint None = 0, Write = 1, ReadDir = 2;

    public static uint Make(uint dir, uint type, uint nr, uint size)
    {
        if (size >= 1u << 14) throw new ArgumentOutOfRangeException(nameof(size), $"ioctl size {size} does not fit 14 bits");
        return (dir << 30) | (size << 16) | (type << 8) | nr;
    }

    public static uint Read(uint type, uint nr, int size) => Make(ReadDir, type, nr, (uint)size);
    public static uint WriteOnly(uint type, uint nr, int size) => Make(Write, type, nr, (uint)size);
    public static uint ReadWrite(uint type, uint nr, int size) => Make(ReadDir | Write, type, nr, (uint)size);
}

/// <summary>The few libc calls the camera and GPIO code needs.</summary>
public static unsafe partial class Libc
{
    public const int O_RDONLY = 0, O_RDWR = 2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    public const int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
    public const short POLLIN = 1, POLLERR = 8, POLLHUP = 16, POLLNVAL = 32;
    public const int EINTR = 4, EIO = 5, EAGAIN = 11, ENODEV = 19, EINVAL = 22, ENXIO = 6, ENOENT = 2, EACCES = 13, EBUSY = 16;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, void* arg);

    public static int ioctl(int fd, uint request, void* arg) => ioctl(fd, (nuint)request, arg);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int munmap(void* addr, nuint length);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeoutMs);

    public static int Errno => Marshal.GetLastPInvokeError();

    public static string Describe(int errno) => errno switch
    {
        ENOENT => "ENOENT (no such device)",
        EACCES => "EACCES (permission denied: add the user to group video)",
        EBUSY => "EBUSY (device in use by another program)",
        ENODEV => "ENODEV (device gone)",
        EIO => "EIO (I/O error)",
        EINVAL => "EINVAL (invalid argument)",
        ENXIO => "ENXIO (no such device or address)",
        EAGAIN => "EAGAIN",
        _ => $"errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})",
    };
}
