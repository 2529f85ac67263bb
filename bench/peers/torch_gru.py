#!/usr/bin/env python3
"""
The PyTorch CPU peer of the benchmark (bench/torch.ts starts one process of it per BLAS and thread count).

A persistent process speaking JSON lines: one request per line on stdin, one reply per line on stdout.
On start it applies the thread count, runs one matrix product so the BLAS is loaded, and writes
  {"ok": true, "info": {torch, python, threads, interop_threads, sgemm, blas, blas_threads, blas_maps, blas_config}}
where `sgemm` is the file the sgemm_ symbol resolves to from libtorch_cpu (the BLAS that really does the
products: Debian's python3-torch loads libblas.so.3 through the alternatives system, so LD_LIBRARY_PATH picks
it), and `blas_maps` lists every BLAS-like library mapped into the process (/proc/self/maps).

Requests:
  {"cmd": "model", "id": s, "T": T, "I": I, "H": H, "C": C, "B": B, "x": base64 float32 [B, T, I],
   "y": base64 int32 [B], "lr": 1e-3}
      torch.nn.GRU(I, H) + torch.nn.Linear(H, C), cross-entropy on the last step's output, torch.optim.Adam.
      Replies {"ok": true, "params": n}.
  {"cmd": "step", "id": s}   one training step (zero_grad, forward, loss, backward, optimizer.step), timed
      with time.perf_counter around exactly that; replies {"ok": true, "ms": wall ms, "loss": loss}.
  {"cmd": "drop", "id": s}   forget a model.
  {"cmd": "quit"}            exit (so does end of input).
A failed request replies {"ok": false, "error": "..."}; the process keeps serving.

Usage: python3 bench/peers/torch_gru.py --threads K   (torch.set_num_threads(K); set OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS in the environment: the libraries read them when they load). `--selftest` runs one tiny model and prints its info and step time.
"""
import array
import base64
import ctypes
import json
import os
import sys
import time


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p), ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


def mapped(predicate):
    """Paths of the shared objects mapped into this process that satisfy `predicate`."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/" in line}
    except OSError:
        return []
    return sorted(p for p in paths if predicate(os.path.basename(p).lower()))


def sgemm_provider():
    """The file sgemm_ resolves to when looked up from libtorch_cpu (its own dependency order), or None."""
    torch_cpu = mapped(lambda name: name.startswith("libtorch_cpu"))
    if not torch_cpu:
        return None
    try:
        fn = getattr(ctypes.CDLL(torch_cpu[0]), "sgemm_")
        info = DlInfo()
        if ctypes.CDLL(None).dladdr(ctypes.cast(fn, ctypes.c_void_p), ctypes.byref(info)) == 0 or not info.dli_fname:
            return None
        return os.path.realpath(info.dli_fname.decode())
    except (AttributeError, OSError):
        return None  # no exported sgemm_: the BLAS is linked into torch itself (e.g. MKL in pip wheels)


def blas_threads(path):
    """Threads of an OpenBLAS (openblas_get_num_threads), else None (a single-threaded or unknown BLAS)."""
    try:
        return int(ctypes.CDLL(path).openblas_get_num_threads())
    except (AttributeError, OSError, TypeError):
        return None


def blas_name(path, config):
    """A short human name of the BLAS behind `path` (or of the build's BLAS when sgemm_ is not exported)."""
    if path is None:
        return f"built into torch ({config})" if config else "unknown"
    p = path.lower()
    if "openblas" in p:
        return "OpenBLAS"
    if "mkl" in p:
        return "MKL"
    if "blis" in p:
        return "BLIS"
    if "atlas" in p:
        return "ATLAS"
    if "/blas/" in p or os.path.basename(p).startswith("libblas.so"):
        return "reference BLAS (netlib)"
    return os.path.basename(path)


def build_info(torch, threads):
    a = torch.randn(64, 64)
    (a @ a).sum().item()  # loads the BLAS and starts its threads
    config = ""
    try:
        for part in torch.__config__.show().replace("\n", ",").split(","):
            if "BLAS_INFO" in part:
                config = part.strip()
    except Exception:
        pass
    sgemm = sgemm_provider()
    return {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "threads": torch.get_num_threads(),
        "requested_threads": threads,
        "interop_threads": torch.get_num_interop_threads(),
        "sgemm": sgemm,
        "blas": blas_name(sgemm, config),
        "blas_threads": blas_threads(sgemm) if sgemm else None,
        "blas_maps": mapped(lambda n: "blas" in n or "mkl" in n or "blis" in n or "lapack" in n),
        "blas_config": config,
        "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "LD_LIBRARY_PATH")},
    }


class Model:
    def __init__(self, torch, msg):
        T, I, H, C, B = (int(msg[k]) for k in ("T", "I", "H", "C", "B"))
        x = torch.frombuffer(bytearray(base64.b64decode(msg["x"])), dtype=torch.float32)
        y = torch.frombuffer(bytearray(base64.b64decode(msg["y"])), dtype=torch.int32)
        if x.numel() != B * T * I or y.numel() != B:
            raise ValueError(f"x has {x.numel()} values for B*T*I = {B * T * I}, y {y.numel()} for B = {B}")
        torch.manual_seed(int(msg.get("seed", 1)))
        self.torch = torch
        self.gru = torch.nn.GRU(I, H)
        self.readout = torch.nn.Linear(H, C)
        self.opt = torch.optim.Adam(list(self.gru.parameters()) + list(self.readout.parameters()), lr=float(msg.get("lr", 1e-3)))
        # [T, B, I], the layout torch.nn.GRU takes without a transpose (its fastest), prepared once, untimed
        self.x = x.reshape(B, T, I).transpose(0, 1).contiguous()
        self.y = y.long()
        self.params = sum(p.numel() for p in self.opt.param_groups[0]["params"])

    def step(self):
        F = self.torch.nn.functional
        t0 = time.perf_counter()
        self.opt.zero_grad()
        out, _ = self.gru(self.x)
        loss = F.cross_entropy(self.readout(out[-1]), self.y)
        loss.backward()
        self.opt.step()
        ms = (time.perf_counter() - t0) * 1000
        return ms, loss.item()


def serve(torch):
    models = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
            cmd = msg.get("cmd")
            if cmd == "quit":
                break
            if cmd == "model":
                models[msg["id"]] = Model(torch, msg)
                reply({"ok": True, "params": models[msg["id"]].params})
            elif cmd == "step":
                ms, loss = models[msg["id"]].step()
                reply({"ok": True, "ms": ms, "loss": loss})
            elif cmd == "drop":
                models.pop(msg["id"], None)
                reply({"ok": True})
            else:
                reply({"ok": False, "error": f"unknown command {cmd!r}"})
        except Exception as e:  # one bad request must not end the process
            reply({"ok": False, "error": f"{type(e).__name__}: {e}"})


def selftest(torch):
    B, T, I = 4, 28, 28
    x = base64.b64encode(array.array("f", (((i * 7919) % 1000) / 1000 for i in range(B * T * I))).tobytes()).decode()
    y = base64.b64encode(array.array("i", (b % 10 for b in range(B))).tobytes()).decode()
    m = Model(torch, {"T": T, "I": I, "H": 32, "C": 10, "B": B, "x": x, "y": y})
    m.step()
    ms, loss = m.step()
    print(f"selftest: GRU(28, 32) step {ms:.2f} ms, loss {loss:.3f}")


def main(argv):
    threads = 1
    if "--threads" in argv:
        threads = int(argv[argv.index("--threads") + 1])
    try:
        import torch
    except Exception as e:
        reply({"ok": False, "error": f"cannot import torch ({type(e).__name__}: {e})"})
        return 1
    torch.set_num_threads(threads)
    info = build_info(torch, threads)
    reply({"ok": True, "info": info})
    if "--selftest" in argv:
        selftest(torch)
        return 0
    serve(torch)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
