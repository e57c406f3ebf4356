# The Python side of one interpreter of `execute_code` (src/sandbox/host/python/worker.ts runs
# it once in a module of its own, `_mcp_runner`, after the interpreter is restored from its
# snapshot). It runs programs (`run`), answers `sandbox.*` through the host (`_request`), and
# puts back what a program changed (`reset`) when the same isolation key runs again in this
# interpreter. Nothing here is a security boundary: the program can reach all of it (and the
# worker's JavaScript). The boundary is the opaque-origin, CSP-locked frame around the worker,
# and a worker never serves two isolation keys.
import asyncio
import builtins
import gc
import json
import operator
import os
import signal
import sys
import traceback
import types
import warnings

import _mcp_sandbox_host as _host
from pyodide.code import eval_code_async
from pyodide.ffi import can_run_sync, run_sync

FILENAME = "<execute_code>"
_MISSING = object()
# The runner's own references: a program that patches json or builtins does not change them.
_dumps, _loads = json.dumps, json.loads
_len, _type, _list, _dict, _any, _all, _map, _zip, _sorted = len, type, list, dict, any, all, map, zip, sorted
_is = operator.is_


# ---------------------------------------------------------------- the program's `sandbox` module


class CapabilityError(Exception):
    """A `sandbox.*` request the host refused (the agent's policy, a missing file...)."""


def _request(fn, args):
    if not can_run_sync():
        raise RuntimeError(f"sandbox.{fn.replace('-', '_')} cannot wait for the host here")
    reply = _loads(run_sync(_host.request(fn, _dumps(args))))
    if not reply.get("ok"):
        raise CapabilityError(str(reply.get("error")))
    return reply.get("value")


def _text(value, what):
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8")
    raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")


def read_file(path):
    """The contents of a workspace file (str), e.g. read_file('./workspace/a.txt')."""
    return _request("read-file", {"path": os.fspath(path)})


def write_file(path, contents):
    """Writes a workspace file; returns the number of bytes written."""
    return _request("write-file", {"path": os.fspath(path), "contents": _text(contents, "contents")})


def list_directory(path="."):
    """Names in a workspace folder; folders end with '/'."""
    return _request("list-directory", {"path": os.fspath(path)})


def stat(path):
    """{'size', 'isDirectory', 'modifiedMs'} of a workspace file or folder."""
    return json.loads(_request("stat", {"path": os.fspath(path)}))


def fetch(url, method="GET", headers=None, body=None):
    """An HTTP request carried out by the host: {'status', 'ok', 'headers', 'body', ...}."""
    request = {"url": str(url), "method": str(method).upper()}
    if headers:
        request["headers"] = {str(k): str(v) for k, v in dict(headers).items()}
    if body is not None:
        request["body"] = _text(body, "body")
    response = json.loads(_request("http-fetch", {"request": json.dumps(request)}))
    if isinstance(response, dict) and isinstance(response.get("status"), int):
        response.setdefault("ok", 200 <= response["status"] < 300)
    return response


def log(message, level="info"):
    """A line for the call's audit record (not stdout)."""
    _host.log(str(level)[:16], str(message)[:1000])


sandbox = types.ModuleType(
    "sandbox",
    "The host's capabilities, each decided by the calling agent's policy: read_file, write_file, "
    "list_directory, stat, fetch, log. A refusal raises sandbox.CapabilityError.",
)
for _f in (read_file, write_file, list_directory, stat, fetch, log, CapabilityError):
    setattr(sandbox, _f.__name__, _f)
    _f.__module__ = "sandbox"
sys.modules["sandbox"] = sandbox


# ---------------------------------------------------------------------------- running a program


def _guest_traceback(tb):
    """The traceback from the program's first frame on (the runner's frames are not shown)."""
    while tb is not None and tb.tb_frame.f_code.co_filename != FILENAME:
        tb = tb.tb_next
    return tb


def _safe_str(value, limit=8192):
    try:
        text = str(value)
    except BaseException:  # noqa: BLE001 - the program's own __str__
        text = f"<{type(value).__name__} whose str() failed>"
    return text[:limit]


def _failure(error):
    try:
        text = "".join(traceback.format_exception(type(error), error, _guest_traceback(error.__traceback__)))
    except BaseException:  # noqa: BLE001
        text = f"{type(error).__name__}: {_safe_str(error)}\n"
    memory = isinstance(error, MemoryError) or (
        # Asking for a size past what a 32-bit interpreter can address (bytearray(10**10)).
        isinstance(error, OverflowError) and "index-sized integer" in _safe_str(error)
    )
    return {
        "ok": False,
        "type": type(error).__name__,
        "message": _safe_str(error),
        "traceback": text[-65536:],
        "memory": memory,
    }


def _serialise(value, limit):
    try:
        text = _dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError, OverflowError):
        try:
            text = _dumps(repr(value), ensure_ascii=False)
        except BaseException:  # noqa: BLE001 - the program's own __repr__
            text = _dumps(f"<{_type(value).__name__} object>")
    # One character past the limit is enough for the host to cut it.
    truncated = _len(text) > limit
    return {"ok": True, "result": text[: limit + 1], "truncated": truncated}


def _flush():
    for stream in (sys.__stdout__, sys.__stderr__, sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass


async def run(code, input_json, result_limit):
    """Runs one program in a new namespace; returns the outcome as JSON text."""
    namespace = {"__name__": "__main__", "__builtins__": builtins, "__doc__": None, "__package__": None, "__spec__": None, "__loader__": None}
    namespace["input"] = _loads(input_json)
    try:
        value = await eval_code_async(code, namespace, filename=FILENAME)
        outcome = _serialise(value, result_limit)
    except SystemExit as stop:
        outcome = _serialise(None, result_limit) if stop.code in (None, 0) else _failure(stop)
    except BaseException as error:  # noqa: BLE001 - KeyboardInterrupt (the deadline) included
        outcome = _failure(error)
    finally:
        _flush()
    return _dumps(outcome)


# ----------------------------------------------------------------- putting the interpreter back

_baseline = None


def _listing():
    """Every directory and file the program may add to or change: {path: (size, mtime) or None}."""
    seen = {}
    pending = ["/home", "/tmp", "/lib"]
    while pending:
        folder = pending.pop()
        seen[folder] = None
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
            else:
                try:
                    info = entry.stat(follow_symlinks=False)
                    seen[entry.path] = (info.st_size, info.st_mtime_ns)
                except OSError:
                    seen[entry.path] = (-1, -1)
    return seen


def _lists():
    return {
        "path": sys.path,
        "meta_path": sys.meta_path,
        "path_hooks": sys.path_hooks,
        "argv": sys.argv,
        "warnings.filters": warnings.filters,
    }


def capture_baseline():
    """Records the state every later program of this interpreter starts from."""
    global _baseline
    gc.collect()
    _baseline = {
        "modules": {name: (module, dict(module.__dict__) if isinstance(getattr(module, "__dict__", None), dict) else None) for name, module in list(sys.modules.items())},
        "lists": {name: list(value) for name, value in _lists().items()},
        "importer_cache": dict(sys.path_importer_cache),
        "environ": dict(os.environ),
        "cwd": os.getcwd(),
        "recursion": sys.getrecursionlimit(),
        "int_digits": sys.get_int_max_str_digits(),
        "fs": _listing(),
        "gc": gc.get_threshold(),
    }
    # This module's own namespace is put back too: with the baseline in it.
    _baseline["modules"][__name__][1]["_baseline"] = _baseline


def _restore_dict(current, saved):
    """Puts a module's namespace back; False when the program had put a non-string key in it."""
    # Unchanged (the common case) means the same keys and values in the same order: compared by
    # identity, in C. Anything else is put back whole.
    if _len(current) == _len(saved) and _all(_map(_is, current.keys(), saved.keys())) and _all(_map(_is, current.values(), saved.values())):
        return True
    clean = _all(_type(key) is str for key in current)
    current.clear()
    current.update(saved)
    return clean


def reset():
    """Undoes what the last program left in this interpreter. Returns JSON {"clean": bool}."""
    base = _baseline
    problems = []
    # Modules first, so that what follows runs the standard library, not the program's patches.
    modules = base["modules"]
    for name in [n for n in _list(sys.modules) if n not in modules]:
        sys.modules.pop(name, None)
    for name, (module, saved) in modules.items():
        if sys.modules.get(name) is not module:
            sys.modules[name] = module
        if saved is not None and not _restore_dict(module.__dict__, saved):
            problems.append(f"module {name}")
    try:
        loop = asyncio.get_event_loop()
        for task in asyncio.all_tasks(loop):
            task.cancel()
    except BaseException as error:  # noqa: BLE001
        problems.append(f"tasks: {type(error).__name__}")
    sys.settrace(None)
    sys.setprofile(None)
    for name, value in _lists().items():
        saved = base["lists"][name]
        if _len(value) != _len(saved) or _any(a is not b for a, b in _zip(value, saved)):
            value[:] = saved
    if sys.path_importer_cache != base["importer_cache"]:
        sys.path_importer_cache.clear()
        sys.path_importer_cache.update(base["importer_cache"])
    if _dict(os.environ) != base["environ"]:
        os.environ.clear()
        os.environ.update(base["environ"])
    os.chdir(base["cwd"])
    sys.setrecursionlimit(base["recursion"])
    sys.set_int_max_str_digits(base["int_digits"])
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    except BaseException as error:  # noqa: BLE001
        problems.append(f"signal: {type(error).__name__}")
    gc.enable()
    gc.set_threshold(*base["gc"])
    # Files: what the program added goes; a changed file of the baseline cannot be put back.
    now = _listing()
    for path in _sorted((p for p in now if p not in base["fs"]), key=_len, reverse=True):
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                os.rmdir(path)
            else:
                os.unlink(path)
        except OSError as error:
            problems.append(f"fs {path}: {error}")
    for path, info in base["fs"].items():
        if info is not None and now.get(path) != info:
            problems.append(f"fs changed: {path}")
            break
    # Finalizers of the program's young objects run now rather than during the next program.
    gc.collect(0)
    return _dumps({"clean": not problems, "reason": "; ".join(problems)[:500]})
