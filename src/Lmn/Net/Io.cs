using System.Diagnostics;
using System.Text;

namespace Lmn.Net;

/// <summary>Where a program's IO goes: the process's streams by default, anything in tests.</summary>
public sealed class IoHost
{
    public Stream StdIn { get; init; } = Console.OpenStandardInput();
    public Stream StdOut { get; init; } = Console.OpenStandardOutput();
    public Stream StdErr { get; init; } = Console.OpenStandardError();

    /// <summary>Called once, before the program's first IO call has any effect (the NativeAOT front decides there whether it may still hand the run over).</summary>
    public Action? BeforeFirstCall { get; init; }

    /// <summary>IO calls performed so far.</summary>
    public int Calls { get; internal set; }
}

/// <summary>
/// HVM2's monadic IO, as its C runtime runs it (src/run.c): after each normalisation the root is read
/// as a λ-encoded constructor; an IO_CALL carrying the magic number names a primitive (WRITE, READ,
/// OPEN, CLOSE, FLUSH, SEEK, GET_TIME, SLEEP, EXEC), which runs and whose Result is applied to the
/// continuation; anything else ends the loop. REFs met while reading are expanded, as HVM2 does.
/// </summary>
public unsafe partial class EngineCore<TSync>
{
    private const uint IO_MAGIC_0 = 0xD0CA11;
    private const uint IO_MAGIC_1 = 0xFF1FF1;
    private const uint IO_DONE = 0, IO_CALL = 1;
    private const uint RESULT_OK = 0, RESULT_ERR = 1;
    private const uint IO_ERR_TYPE = 0, IO_ERR_NAME = 1, IO_ERR_INNER = 2;
    private const uint LIST_NIL = 0, LIST_CONS = 1;
    private const int EBADF = 9, ENOENT = 2, EACCES = 13, EMFILE = 24, EINVAL = 22, EIO = 5;

    private readonly Stream?[] _files = new Stream?[256];
    private IoHost? _io;

    /// <summary>Forgets the last IO run (<see cref="Reset"/>): files it left open are closed, the host's streams are not.</summary>
    private void ResetIo()
    {
        if (_io == null) return; // files are opened only under RunIo
        for (int fd = 3; fd < _files.Length; fd++)
        {
            _files[fd]?.Dispose();
            _files[fd] = null;
        }
        _files[0] = _files[1] = _files[2] = null;
        _io = null;
    }

    /// <summary>Runs @main with HVM2's IO loop: what `hvm run-c` does.</summary>
    public void RunIo(IoHost io, int fid = 0)
    {
        _io = io;
        _files[0] = io.StdIn;
        _files[1] = io.StdOut;
        _files[2] = io.StdErr;
        Boot(Port.New(Tag.REF, (uint)fid));
        uint port = Port.ROOT;
        while (true)
        {
            Normalize();
            var (tag, args) = ReadCtr(Peek(port));
            if (args.Count < 1 || Port.TagOf(args[0]) != Tag.CON) break;
            ulong magic = _node[args[0] >> 3];
            if (((uint)magic >> 3) != Numb.NewU24(IO_MAGIC_0) || ((uint)(magic >> 32) >> 3) != Numb.NewU24(IO_MAGIC_1)) break;
            if (tag != IO_CALL) break;
            if (args.Count != 4)
            {
                WriteErr($"invalid IO_CALL: args_len = {args.Count}\n");
                break;
            }
            if (io.Calls++ == 0) io.BeforeFirstCall?.Invoke();
            string func = Encoding.Latin1.GetString(ReadBytes(args[1]));
            uint argm = args[2], cont = args[3];
            uint ret = func switch
            {
                "READ" => IoRead(argm),
                "OPEN" => IoOpen(argm),
                "CLOSE" => IoClose(argm),
                "FLUSH" => IoFlush(argm),
                "WRITE" => IoWrite(argm),
                "SEEK" => IoSeek(argm),
                "GET_TIME" => IoGetTime(),
                "SLEEP" => IoSleep(argm),
                "EXEC" => IoExec(argm),
                "DL_OPEN" or "DL_CALL" or "DL_CLOSE" => InjectIoErrStr("dynamic libraries are not supported by lmn"),
                _ => InjectIoErr(IO_ERR_NAME, 0),
            };
            uint loc = AllocNode();
            _node[loc] = Port.Pair(ret, Port.ROOT);
            _vars[Port.RootVar] = Port.NONE;
            Link((loc << 3) | Tag.CON, cont);
            port = Port.ROOT;
        }
        foreach (var s in _files) s?.Flush();
    }

    private void WriteErr(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        _io!.StdErr.Write(bytes);
        _io.StdErr.Flush();
    }

    /// <summary>HVM2's expand: while the port is a REF, call it at the root and reduce.</summary>
    private uint Expand(uint port)
    {
        uint old = _vars[Port.RootVar];
        uint got = Peek(port);
        while (Port.TagOf(got) == Tag.REF)
        {
            // `@loop = @loop` expands for ever without a redex: Ctrl+C is checked here, not only in Normalize.
            Cancellation.ThrowIfCancellationRequested();
            Boot(got);
            Normalize();
            got = Peek(_vars[Port.RootVar]);
        }
        _vars[Port.RootVar] = old;
        return got;
    }

    /// <summary>Reads a λ-encoded constructor `λt ((((t TAG) arg0) arg1) ...)`; tag is uint.MaxValue if it is not one.</summary>
    private (uint Tag, List<uint> Args) ReadCtr(uint port)
    {
        var args = new List<uint>();
        uint lam = Expand(port);
        if (Port.TagOf(lam) != Tag.CON) return (uint.MaxValue, args);
        ulong lamNode = _node[lam >> 3];
        uint app = Expand((uint)lamNode);
        if (Port.TagOf(app) != Tag.CON) return (uint.MaxValue, args);
        ulong appNode = _node[app >> 3];
        uint arg = Expand((uint)appNode);
        if (Port.TagOf(arg) != Tag.NUM) return (uint.MaxValue, args);
        uint tag = Numb.GetU24(arg >> 3);
        while (args.Count < 16)
        {
            app = Expand((uint)(appNode >> 32));
            if (Port.TagOf(app) != Tag.CON) break;
            appNode = _node[app >> 3];
            args.Add(Expand((uint)appNode));
        }
        return (tag, args);
    }

    /// <summary>Reads a right-nested tuple `(a (b c))` of at most size elements.</summary>
    private List<uint> ReadTup(uint port, int size)
    {
        var elems = new List<uint>();
        while (Port.TagOf(port) == Tag.CON && elems.Count + 1 < size)
        {
            ulong n = _node[port >> 3];
            elems.Add(Expand((uint)n));
            port = Expand((uint)(n >> 32));
        }
        elems.Add(port);
        return elems;
    }

    /// <summary>Reads a λ-encoded list of numbers as bytes (each truncated to 8 bits, as HVM2's char buffer).</summary>
    private byte[] ReadBytes(uint port)
    {
        var bytes = new List<byte>();
        while (true)
        {
            Normalize();
            var (tag, args) = ReadCtr(Peek(port));
            if (tag == LIST_CONS && args.Count == 2 && Port.TagOf(args[0]) == Tag.NUM)
            {
                bytes.Add((byte)Numb.GetU24(args[0] >> 3));
                _vars[Port.RootVar] = Port.NONE;
                Link(args[1], Port.ROOT);
                port = Port.ROOT;
                continue;
            }
            break;
        }
        return [.. bytes];
    }

    private string ReadString(uint port) => Encoding.UTF8.GetString(ReadBytes(port));

    private List<string> ReadListStr(uint port)
    {
        var list = new List<string>();
        while (true)
        {
            Normalize();
            var (tag, args) = ReadCtr(Peek(port));
            if (tag == LIST_CONS && args.Count == 2)
            {
                list.Add(ReadString(args[0]));
                _vars[Port.RootVar] = Port.NONE;
                Link(args[1], Port.ROOT);
                port = Port.ROOT;
                continue;
            }
            break;
        }
        return list;
    }

    // Injection of results (the exact shapes HVM2 builds).

    private uint NewVarPort()
    {
        uint v = AllocVar();
        _vars[v] = Port.NONE;
        return v << 3;
    }

    private uint NewNode(uint fst, uint snd)
    {
        uint n = AllocNode();
        _node[n] = Port.Pair(fst, snd);
        return n;
    }

    private static uint Num(uint u24) => Port.New(Tag.NUM, Numb.NewU24(u24));

    private static uint NumI(int i24) => Port.New(Tag.NUM, Numb.NewI24(i24));

    private uint InjectNil()
    {
        uint v = NewVarPort();
        uint n1 = NewNode(Num(LIST_NIL), v);
        return Port.New(Tag.CON, NewNode(Port.New(Tag.CON, n1), v));
    }

    private uint InjectCons(uint head, uint tail)
    {
        uint v = NewVarPort();
        uint n1 = NewNode(tail, v);
        uint n2 = NewNode(head, Port.New(Tag.CON, n1));
        uint n3 = NewNode(Num(LIST_CONS), Port.New(Tag.CON, n2));
        return Port.New(Tag.CON, NewNode(Port.New(Tag.CON, n3), v));
    }

    private uint InjectBytes(ReadOnlySpan<byte> bytes)
    {
        uint port = InjectNil();
        for (int i = bytes.Length - 1; i >= 0; i--) port = InjectCons(Num(bytes[i]), port);
        return port;
    }

    private uint InjectTagged(uint tag, uint val)
    {
        uint v = NewVarPort();
        uint n1 = NewNode(val, v);
        uint n2 = NewNode(Num(tag), Port.New(Tag.CON, n1));
        return Port.New(Tag.CON, NewNode(Port.New(Tag.CON, n2), v));
    }

    private uint InjectOk(uint val) => InjectTagged(RESULT_OK, val);

    private uint InjectErr(uint err) => InjectTagged(RESULT_ERR, err);

    private uint InjectIoErr(uint tag, uint val)
    {
        if (tag <= IO_ERR_NAME)
        {
            uint v = NewVarPort();
            uint n1 = NewNode(Num(tag), v);
            return InjectErr(Port.New(Tag.CON, NewNode(Port.New(Tag.CON, n1), v)));
        }
        return InjectErr(InjectTagged(IO_ERR_INNER, val));
    }

    private uint InjectIoErrInner(int errno) => InjectIoErr(IO_ERR_INNER, NumI(errno));

    private uint InjectIoErrStr(string message) => InjectIoErr(IO_ERR_INNER, InjectBytes(Encoding.UTF8.GetBytes(message)));

    private Stream? FileOf(uint port)
    {
        if (Port.TagOf(port) != Tag.NUM) return null;
        uint fd = Numb.GetU24(port >> 3);
        return fd < _files.Length ? _files[fd] : null;
    }

    private static int Errno(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => ENOENT,
        UnauthorizedAccessException => EACCES,
        ArgumentException => EINVAL,
        _ => EIO,
    };

    // The primitives.

    private uint IoRead(uint argm)
    {
        var tup = ReadTup(argm, 2);
        if (tup.Count != 2) return InjectIoErr(IO_ERR_TYPE, 0);
        var f = FileOf(tup[0]);
        int want = (int)Numb.GetU24(tup[1] >> 3);
        if (f == null) return InjectIoErrInner(EBADF);
        var buf = new byte[want];
        int got = 0;
        try
        {
            // fread semantics: keep reading until the count is met or the stream ends.
            while (got < want)
            {
                int n = f.Read(buf, got, want - got);
                if (n <= 0) break;
                got += n;
            }
        }
        catch (Exception e) when (e is IOException or NotSupportedException or ObjectDisposedException)
        {
            return InjectIoErrInner(EIO);
        }
        return InjectOk(InjectBytes(buf.AsSpan(0, got)));
    }

    private uint IoOpen(uint argm)
    {
        var tup = ReadTup(argm, 2);
        if (tup.Count != 2) return InjectIoErr(IO_ERR_TYPE, 0);
        string name = ReadString(tup[0]);
        string mode = ReadString(tup[1]).Replace("b", "");
        for (int fd = 3; fd < _files.Length; fd++)
        {
            if (_files[fd] != null) continue;
            try
            {
                _files[fd] = mode switch
                {
                    "r" => new FileStream(name, FileMode.Open, FileAccess.Read),
                    "w" => new FileStream(name, FileMode.Create, FileAccess.Write),
                    "a" => new FileStream(name, FileMode.Append, FileAccess.Write),
                    "r+" => new FileStream(name, FileMode.Open, FileAccess.ReadWrite),
                    "w+" => new FileStream(name, FileMode.Create, FileAccess.ReadWrite),
                    "a+" => OpenAppendRead(name),
                    _ => throw new ArgumentException($"invalid mode {mode}"),
                };
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                return InjectIoErrInner(Errno(e));
            }
            return InjectOk(Num((uint)fd));
        }
        return InjectIoErrInner(EMFILE);
    }

    private static FileStream OpenAppendRead(string name)
    {
        var fs = new FileStream(name, FileMode.OpenOrCreate, FileAccess.ReadWrite);
        fs.Seek(0, SeekOrigin.End);
        return fs;
    }

    private uint IoClose(uint argm)
    {
        var f = FileOf(argm);
        if (f == null) return InjectIoErrInner(EBADF);
        uint fd = Numb.GetU24(argm >> 3);
        try
        {
            if (fd <= 2) f.Flush();
            else f.Dispose();
        }
        catch (IOException) { return InjectIoErrInner(EIO); }
        _files[fd] = null;
        return InjectOk(Tag.ERA);
    }

    private uint IoFlush(uint argm)
    {
        var f = FileOf(argm);
        if (f == null) return InjectIoErrInner(EBADF);
        try { f.Flush(); }
        catch (IOException) { return InjectIoErrInner(EIO); }
        return InjectOk(Tag.ERA);
    }

    private uint IoWrite(uint argm)
    {
        var tup = ReadTup(argm, 2);
        if (tup.Count != 2) return InjectIoErr(IO_ERR_TYPE, 0);
        var f = FileOf(tup[0]);
        var bytes = ReadBytes(tup[1]);
        if (f == null) return InjectIoErrInner(EBADF);
        try
        {
            f.Write(bytes);
            // stdout and stderr are line buffered in HVM2; flushing each write keeps the order with our own output.
            if (ReferenceEquals(f, _files[1]) || ReferenceEquals(f, _files[2])) f.Flush();
        }
        catch (Exception e) when (e is IOException or NotSupportedException)
        {
            return InjectIoErrInner(EIO);
        }
        return InjectOk(Tag.ERA);
    }

    private uint IoSeek(uint argm)
    {
        var tup = ReadTup(argm, 3);
        if (tup.Count != 3) return InjectIoErr(IO_ERR_TYPE, 0);
        var f = FileOf(tup[0]);
        int offset = Numb.GetI24(tup[1] >> 3);
        int whence = Numb.GetI24(tup[2] >> 3);
        if (f == null) return InjectIoErrInner(EBADF);
        SeekOrigin origin;
        switch (whence)
        {
            case 0: origin = SeekOrigin.Begin; break;
            case 1: origin = SeekOrigin.Current; break;
            case 2: origin = SeekOrigin.End; break;
            default: return InjectIoErr(IO_ERR_TYPE, 0);
        }
        try { f.Seek(offset, origin); }
        catch (Exception e) when (e is IOException or NotSupportedException or ArgumentException)
        {
            return InjectIoErrInner(EINVAL);
        }
        return InjectOk(Tag.ERA);
    }

    private uint IoGetTime()
    {
        ulong ns = (ulong)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));
        uint hi = (uint)(ns >> 24) & 0xFFF_FFFF;
        uint lo = (uint)(ns & 0xFFF_FFFF);
        uint loc = NewNode(Num(hi), Num(lo));
        return InjectOk(Port.New(Tag.CON, loc));
    }

    private uint IoSleep(uint argm)
    {
        var tup = ReadTup(argm, 2);
        if (tup.Count != 2) return InjectIoErr(IO_ERR_TYPE, 0);
        ulong hi = Numb.GetU24(tup[0] >> 3), lo = Numb.GetU24(tup[1] >> 3);
        ulong ns = (hi << 24) | lo;
        Thread.Sleep(TimeSpan.FromTicks((long)(ns / 100)));
        return InjectOk(Tag.ERA);
    }

    private uint IoExec(uint argm)
    {
        var args = ReadListStr(argm);
        if (args.Count == 0) return InjectIoErrStr("failed to exec subprocess");
        var psi = new ProcessStartInfo(args[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args.Skip(1)) psi.ArgumentList.Add(a);
        Process proc;
        try { proc = Process.Start(psi) ?? throw new InvalidOperationException(); }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return InjectIoErrStr("failed to exec subprocess");
        }
        using var outBuf = new MemoryStream();
        using var errBuf = new MemoryStream();
        var t1 = proc.StandardOutput.BaseStream.CopyToAsync(outBuf);
        var t2 = proc.StandardError.BaseStream.CopyToAsync(errBuf);
        proc.WaitForExit();
        Task.WaitAll(t1, t2);
        uint o = InjectBytes(outBuf.ToArray());
        uint e2 = InjectBytes(errBuf.ToArray());
        uint status = NumI(proc.ExitCode);
        uint inner = NewNode(e2, status);
        uint tup = NewNode(o, Port.New(Tag.CON, inner));
        return InjectOk(Port.New(Tag.CON, tup));
    }
}
