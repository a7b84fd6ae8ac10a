"""
Benchmark whole runs of the scripts: CPU seconds and peak memory, as medians.

    python3 docs/bench.py [-n RUNS] SCRIPT [SCRIPT ...] [-- ARGS]

Each run is a fresh `python3 SCRIPT ARGS`; the runs of different scripts are
interleaved (a, b, a, b, ...) so that they share the machine's ups and downs.
CPU is user + system time of the child process; memory is its peak resident set.
measure(), with_constants() and patched_copy() also serve docs/report.py and the tests.
"""

import os          # os.fork, os.execv, os.wait4, os.devnull, os.dup2, os.open
import re          # re.subn, re.escape
import statistics  # statistics.median
import sys         # sys.argv, sys.executable


def with_constants(source, **constants):
    """The source of a script with module-level constants replaced: with_constants(src,
    num_steps=50) turns the line `num_steps = 1000  # ...` into `num_steps = 50  # ...`."""
    for name, value in constants.items():
        source, n = re.subn(rf'^{re.escape(name)} = [^#\n]*?(?=\s*(#|$))', f'{name} = {value!r}',
                            source, count=1, flags=re.M)
        if n != 1:
            raise KeyError(f'no module-level constant {name}')
    return source


def patched_copy(path, tmpdir, **constants):
    """Write the script at path into tmpdir with constants replaced; return the copy's path."""
    with open(path, encoding='utf-8') as f:
        source = with_constants(f.read(), **constants)
    copy = os.path.join(tmpdir, os.path.basename(path))
    with open(copy, 'w', encoding='utf-8') as f:
        f.write(source)
    return copy


def measure(argv, stdout_path=os.devnull):
    """Run argv to completion; return (exit status, CPU seconds, peak RSS in MB)."""
    pid = os.fork()
    if pid == 0:  # child: send its output to stdout_path, then become the command
        fd = os.open(stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1)
        os.execv(argv[0], argv)
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main(args):
    runs = 3
    if args[:1] == ['-n']:
        runs, args = int(args[1]), args[2:]
    extra = []
    if '--' in args:
        args, extra = args[:args.index('--')], args[args.index('--') + 1:]
    if not args:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    results = {script: [] for script in args}
    for r in range(runs):
        for script in args:
            code, cpu, rss = measure([sys.executable, script] + extra)
            if code != 0:
                sys.exit(f"error: {script} exited with status {code}")
            results[script].append((cpu, rss))
            print(f"run {r + 1}/{runs} {script}: {cpu:.2f} s CPU, {rss:.1f} MB", flush=True)
    print(f"\nmedian of {runs} runs (python {sys.version.split()[0]}, {os.cpu_count()} cores):")
    for script, rows in results.items():
        cpu = statistics.median(c for c, _ in rows)
        rss = statistics.median(m for _, m in rows)
        print(f"  {script:<24} {cpu:7.2f} s CPU  {rss:6.1f} MB peak RSS")


if __name__ == '__main__':
    main(sys.argv[1:])
