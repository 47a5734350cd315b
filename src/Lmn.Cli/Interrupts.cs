using System.Runtime.InteropServices;

namespace Lmn.Cli;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM cancel one token that reaches the supervisor, the oracles and the engine; the
/// command then exits 130 ("lmn: interrupted"). A second one ends the process at once. Compiled into the
/// managed CLI and the NativeAOT front alike (src/Lmn.Front), so that both stop the same way.
/// </summary>
public sealed class Interrupts : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration _sigint, _sigterm;

    public Interrupts()
    {
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
    }

    public CancellationToken Token => _cts.Token;

    public bool IsCancellationRequested => _cts.IsCancellationRequested;

    private void Interrupt(PosixSignalContext c)
    {
        if (_cts.IsCancellationRequested) return;
        c.Cancel = true;
        _cts.Cancel();
    }

    public void Dispose()
    {
        _sigint.Dispose();
        _sigterm.Dispose();
        _cts.Dispose();
    }
}
