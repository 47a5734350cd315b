using Lmn.Net;

namespace Lmn.Tests.Net;

/// <summary>
/// ThreadSched, behind LMN_DEBUG_WORKERS's cpu_ms and wait_ms: the calling thread's own CPU time from
/// /proc/thread-self/schedstat, so another thread's work does not count, and zeros where /proc is missing.
/// </summary>
public class ThreadSchedTests
{
    [Fact]
    public void CountsTheCallingThreadsCpuTimeOnly()
    {
        if (!File.Exists("/proc/thread-self/schedstat"))
        {
            Assert.Equal(default, ThreadSched.Now());
            return;
        }
        static void Spin(TimeSpan span)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            long x = 0;
            while (sw.Elapsed < span) x++;
            GC.KeepAlive(x);
        }
        var a = ThreadSched.Now();
        Spin(TimeSpan.FromMilliseconds(200));
        var own = ThreadSched.Now() - a;
        // Busy for 200 ms of wall time: at least a quarter of it on a CPU, however loaded the machine.
        Assert.True(own.Cpu >= 50_000_000, $"cpu {own.Cpu} ns");
        Assert.True(own.Wait >= 0);

        // Another thread's 200 ms of work while this one sleeps is not this thread's CPU time.
        var b = ThreadSched.Now();
        var other = new Thread(() => Spin(TimeSpan.FromMilliseconds(200)));
        other.Start();
        other.Join();
        var idle = ThreadSched.Now() - b;
        Assert.True(idle.Cpu < 40_000_000, $"cpu {idle.Cpu} ns while another thread worked");
    }
}
