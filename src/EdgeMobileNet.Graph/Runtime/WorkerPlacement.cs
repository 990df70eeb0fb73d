using System.Runtime.InteropServices;

namespace EdgeMobileNet.Graph.Runtime;

/// <summary>
/// Keeps a woken worker off the CPU its waker runs on (Linux; elsewhere it does nothing). Linux places a thread woken
/// from a futex near its waker (wake-affine), and on the 2-vCPU build VM that often meant the waker's own CPU:
/// 60 % of the worker's layers ran on the caller's CPU, the two took turns on one core, and
/// V1 0.25-128 at 2 threads stayed at 1.1-1.2 ms for ~9 ms after every idle gap (against 0.55 ms once the load
/// balancer had moved one of them). Just before a parked worker is woken, its affinity becomes the process's CPUs
/// minus the caller's current one; only that wake-up pays the system call, not the spinning hand-offs between layers.
/// Best effort: a refused call (a container's seccomp policy, say) leaves placement to the kernel.
/// </summary>
internal static unsafe partial class WorkerPlacement
{
    private const int MaskWords = 16; // cpu_set_t: 1024 CPUs

    /// <summary>The calling thread's kernel thread id, 0 where unknown (not Linux).</summary>
    public static int CurrentThreadId()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        try { return Gettid(); }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { return 0; } // no gettid: no steering
    }

    /// <summary>The CPUs the calling thread (a pool's creator: the process's, unless it was pinned) may run on, or null where unknown.</summary>
    public static ulong[]? ProcessCpus() => CpusOf(0);

    /// <summary>Thread <paramref name="threadId"/>'s CPU mask (0: the calling thread), or null where unknown.</summary>
    public static ulong[]? CpusOf(int threadId)
    {
        if (!OperatingSystem.IsLinux() || threadId < 0) return null;
        var mask = new ulong[MaskWords];
        fixed (ulong* m = mask)
            return SchedGetaffinity(threadId, MaskWords * sizeof(ulong), m) == 0 ? mask : null;
    }

    /// <summary>Lets thread <paramref name="threadId"/> run on <paramref name="allowed"/> except the caller's current CPU.</summary>
    public static void KeepOffCurrentCpu(int threadId, ulong[]? allowed)
    {
        if (threadId <= 0 || allowed is null) return; // 0 would mean the calling thread itself
        KeepOffCpu(threadId, allowed, CurrentCpu());
    }

    /// <summary>Lets thread <paramref name="threadId"/> run on <paramref name="allowed"/> except <paramref name="cpu"/>; no change when nothing else is allowed.</summary>
    public static void KeepOffCpu(int threadId, ulong[] allowed, int cpu)
    {
        if (threadId <= 0 || cpu < 0 || cpu >= MaskWords * 64 || allowed.Length != MaskWords) return;
        ulong* mask = stackalloc ulong[MaskWords];
        bool any = false;
        for (int i = 0; i < MaskWords; i++)
        {
            mask[i] = allowed[i] & (i == cpu / 64 ? ~(1UL << (cpu % 64)) : ulong.MaxValue);
            any |= mask[i] != 0;
        }
        if (any) SchedSetaffinity(threadId, MaskWords * sizeof(ulong), mask);
    }

    /// <summary>The CPU the calling thread runs on, -1 where unknown.</summary>
    public static int CurrentCpu() => OperatingSystem.IsLinux() ? SchedGetcpu() : -1;

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int Gettid();

    [LibraryImport("libc", EntryPoint = "sched_getcpu")]
    private static partial int SchedGetcpu();

    [LibraryImport("libc", EntryPoint = "sched_getaffinity")]
    private static partial int SchedGetaffinity(int pid, nuint size, ulong* mask);

    [LibraryImport("libc", EntryPoint = "sched_setaffinity")]
    private static partial int SchedSetaffinity(int pid, nuint size, ulong* mask);
}
