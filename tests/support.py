"""Shared helpers for the tests: paths, running a script, loading a script's model."""

import contextlib  # contextlib.redirect_stdout
import io          # io.StringIO
import os          # os.path
import re          # re.finditer, re.search, re.findall
import subprocess  # subprocess.run
import sys         # sys.executable, sys.argv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'docs'))
from bench import patched_copy, with_constants  # noqa: E402  (docs/bench.py: the same patching serves the report)

REFERENCE = os.path.join(ROOT, '..', 'shared', 'reference')  # read-only reference material, when present
STAGES = [f'train{i}.py' for i in range(6)]


def script(name):
    return os.path.join(ROOT, name)


def run(name, *args, **kwargs):
    """Run a script as a user would: `python name args...`; return the CompletedProcess (text)."""
    return subprocess.run([sys.executable, script(name), *args], capture_output=True, text=True,
                          cwd=kwargs.pop('cwd', ROOT), **kwargs)


def run_with(name, data_path, tmpdir, **constants):
    """Run a copy of a script whose constants are replaced (e.g. num_steps=20) on data_path."""
    copy = patched_copy(script(name), tmpdir, **constants)
    return subprocess.run([sys.executable, copy, data_path], capture_output=True, text=True, cwd=tmpdir)


def progress(stdout):
    """The step lines of a run's output (they are rewritten in place with '\\r'): [(step, loss), ...]."""
    return [(int(m.group(1)), float(m.group(2)))
            for m in re.finditer(r'step +(\d+) / \d+ \| loss (\d+\.\d+)', stdout)]


def held_out_loss(stdout):
    return float(re.search(r'held-out loss: (\d+\.\d+)', stdout).group(1))


def samples(stdout):
    return re.findall(r'^sample +\d+: (.*)$', stdout, re.M)


def load(name, data_path, upto='# ---- Optimizer', **constants):
    """Execute a script from its top down to the line `upto` (by default: data, tokenizer,
    autograd, parameters and model, but no training) and return its globals.

    data_path is given to the script as its command-line argument. Keyword arguments
    replace module-level constants before the code runs, e.g. n_layer=2 turns the
    line `n_layer = 1  # ...` into `n_layer = 2`.
    """
    with open(script(name), encoding='utf-8') as f:
        src = with_constants(f.read(), **constants)
    src = src[:src.index(upto)]
    namespace = {'__name__': 'loaded_' + name.replace('.py', ''), '__file__': script(name)}
    saved_argv = sys.argv
    sys.argv = [script(name), data_path]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(src, script(name), 'exec'), namespace)
    finally:
        sys.argv = saved_argv
    return namespace


def write_docs(dirpath, docs, name='docs.txt'):
    """Write one document per line to dirpath/name (UTF-8) and return its path."""
    path = os.path.join(dirpath, name)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(''.join(doc + '\n' for doc in docs))
    return path
