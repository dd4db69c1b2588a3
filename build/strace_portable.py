"""Prove a portable run writes nothing outside the stick and PyInstaller's unpack dir (Linux, strace).

Runs the one-file binary from a temp stick (``qorven`` + ``qorven-data/``) under
``strace -f -e trace=<every syscall that creates, writes, renames or removes files>``, with HOME,
TMPDIR and the working directory pointed at empty folders of their own, and works it through the
API: a provider with a key, a streamed chat, an agent, a memory saved and searched, a request body
big enough that waitress spools it to a temp file. Then SIGTERM. Every successful write-ish call
must name a path inside the stick folder, inside ``$TMPDIR/_MEI*`` (the unpack dir), or a
``/dev`` node. Prints a summary per area and each violation; exit status 1 if there is any.

    .venv/bin/python build/strace_portable.py [--binary dist/qorven] [--keep]
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from smoke_test import KEY, Running, build, make_stick  # noqa: E402

from tests.fakes import FakeProvider, Reply  # noqa: E402

SYSCALLS = ("open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,rmdir,"
            "link,linkat,symlink,symlinkat,truncate,chmod,fchmodat,utimensat")
CALL = re.compile(r'^(?:\[pid\s+)?(\d+)\]?\s+(\w+)\((.*)\)\s+=\s+(-?\d+|\?)')
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_TMPFILE", "O_APPEND")


def write_targets(line: str) -> list[str]:
    """The paths a successful write-ish syscall line touches ([] for reads and failures)."""
    match = CALL.match(line.strip())
    if not match or match.group(4) in ("?",) or int(match.group(4)) < 0:
        return []
    name, args = match.group(2), match.group(3)
    paths = STRING.findall(args)
    if not paths:
        return []
    if name in ("open", "openat", "openat2"):
        return [paths[0]] if any(flag in args for flag in WRITE_FLAGS) else []
    if name.startswith(("rename", "link", "symlink")):
        return paths[:2] if not name.startswith("symlink") else paths[1:2]
    return [paths[0]]


def classify(path: str, cwd: Path, stick: Path, unpack_root: Path) -> str:
    full = Path(os.path.normpath(path if os.path.isabs(path) else cwd / path))
    if full == stick or stick in full.parents:
        return "stick"
    if full.parent == unpack_root and full.name.startswith("_MEI") or any(
            p.parent == unpack_root and p.name.startswith("_MEI") for p in full.parents):
        return "unpack dir"
    if full.parts[:2] == ("/", "dev"):
        return "/dev"
    return "OUTSIDE"


def exercise(run: Running, fake: FakeProvider) -> None:
    with run.client() as qorven:
        provider = qorven.providers.create({"name": "fake", "kind": "openai_compatible", "base_url": fake.base_url})
        qorven.providers.set_key(provider["id"], KEY)
        qorven.models.select(["fake/fake-model"])
        qorven.models.set_default("fake/fake-model")
        fake.enqueue(Reply.text("traced answer"))
        assert "".join(e.text for e in qorven.chat.stream("prime", "hello")) == "traced answer"
        qorven.agents.create({"name": "traced"})
        qorven.memory.save("strace checks the stick keeps its bytes", scope="workspace", kind="fact")
        assert qorven.memory.search("where do the bytes go?", scope="workspace")
        import httpx  # a body over waitress's 512 KiB in-memory limit: spooled to a temp file
        res = httpx.post(run.url + "/v1/agents", headers={"Authorization": f"Bearer {qorven.token}"},
                         json={"name": "big", "instructions": "x" * 700_000}, timeout=60)
        assert res.status_code in (201, 400, 413), res.status_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if not shutil.which("strace"):
        print("strace is not installed (apt-get install strace)", file=sys.stderr)
        return 2
    exe = build(args.binary)
    work = Path(tempfile.mkdtemp(prefix="qorven-strace-")).resolve()
    try:
        stick_exe = make_stick(exe, work / "stick")
        home, tmp, cwd = work / "home", work / "tmp", work / "cwd"
        for folder in (home, tmp, cwd):
            folder.mkdir()
        trace = work / "trace.log"
        env = {"HOME": str(home), "TMPDIR": str(tmp), "XDG_CACHE_HOME": "", "XDG_CONFIG_HOME": "",
               "XDG_DATA_HOME": ""}
        # started from an unrelated folder: a write to a relative path would land there
        run = Running(stick_exe, env=env, cwd=cwd, wrapper=["strace", "-f", "-qq", "-s", "4096",
                                                            "-e", f"trace={SYSCALLS}", "-o", str(trace)])
        with FakeProvider(api_key=KEY) as fake:
            with run:
                exercise(run, fake)
        areas: collections.Counter[str] = collections.Counter()
        violations: list[str] = []
        for line in trace.read_text(errors="replace").splitlines():
            for path in write_targets(line):
                area = classify(path, cwd, stick_exe.parent, tmp)
                areas[area] += 1
                if area == "OUTSIDE":
                    violations.append(line.strip())
        leftovers = sorted(p.name for p in tmp.iterdir())
        print(f"write-ish syscalls: {sum(areas.values())} — " + ", ".join(f"{k}: {v}" for k, v in sorted(areas.items())))
        print(f"HOME after the run: {sorted(p.name for p in home.iterdir()) or 'empty'}; "
              f"TMPDIR after the run: {leftovers or 'empty (unpack dir removed)'}; "
              f"cwd: {sorted(p.name for p in cwd.iterdir()) or 'empty'}")
        for v in violations:
            print("OUTSIDE:", v)
        ok = not violations and not any(home.iterdir()) and not any(cwd.iterdir())
        print("strace: no writes outside the stick and the unpack dir" if ok else "strace: VIOLATIONS")
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
