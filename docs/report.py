"""
Run the whole course and report on it: a figure of the learning curves and the
course table in the README.

    python3 docs/report.py [--input FILE] [--steps N] [--readme PATH] [--figure PATH]

train0.py ... train5.py and microgpt.py run one after another, each as a fresh
process measured as docs/bench.py measures it (CPU seconds, peak memory). With
--steps N they run as copies whose num_steps is N. Needs matplotlib (docs only).
"""

import argparse  # argparse.ArgumentParser
import datetime  # datetime.date.today
import difflib   # difflib.SequenceMatcher
import importlib.util  # importlib.util.find_spec
import os        # os.path
import re        # re.findall, re.search
import shlex     # shlex.join
import sys       # sys.executable, sys.exit, sys.path, sys.version_info
import tempfile  # tempfile.TemporaryDirectory

DOCS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(DOCS)
sys.path.insert(0, DOCS)
from bench import measure, patched_copy  # noqa: E402  (one way to run and patch a script)

STAGES = {  # script: what it adds to the one before
    'train0.py': 'bigram counts',
    'train1.py': 'MLP, gradients by hand, SGD',
    'train2.py': 'autograd (Value)',
    'train3.py': 'attention, RMSNorm, residuals, positions',
    'train4.py': 'multi-head attention',
    'train5.py': 'Adam',
    'microgpt.py': '(= train5.py)',
}
START, END = '<!-- course-table:start -->', '<!-- course-table:end -->'
SMOOTH = 50  # steps in the running mean of the plotted training loss


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def run(name, input_path, steps, tmpdir):
    """Run one script on input_path as a fresh process (a copy with num_steps=steps if
    steps is given); return its measurements and what it printed, parsed."""
    path = os.path.join(ROOT, name)
    if steps is not None:
        path = patched_copy(path, tmpdir, num_steps=steps)
    out_path = os.path.join(tmpdir, name + '.out')
    code, cpu, rss = measure([sys.executable, path, input_path], out_path)
    if code != 0:
        sys.exit(f"error: {name} exited with status {code}")
    out = read(out_path)
    held_out = re.search(r'held-out loss: (\d+\.\d+)', out)
    params = re.search(r'num params: (\d+)', out)
    return {'cpu': cpu, 'rss': rss,
            'losses': [float(x) for x in re.findall(r'step +\d+ / \d+ \| loss (\S+)', out)],
            'held_out': float(held_out.group(1)) if held_out else None,
            'params': int(params.group(1)) if params else None}


def diff_counts(old, new):
    """Lines (added, removed) between two lists of lines; a replaced line counts as both."""
    added = removed = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        removed += (i2 - i1) if tag in ('replace', 'delete') else 0
        added += (j2 - j1) if tag in ('replace', 'insert') else 0
    return added, removed


def running_mean(xs, n):
    """The mean of each x and the up to n - 1 before it."""
    sums = [0.0]
    for x in xs:
        sums.append(sums[-1] + x)
    return [(sums[i + 1] - sums[max(0, i + 1 - n)]) / (i + 1 - max(0, i + 1 - n)) for i in range(len(xs))]


def draw(results, path):
    """The training loss of each stage against the step: a running mean drawn thick over
    the faint per-step curve, and the held-out loss as a dot at the last step. A stage
    with the same numbers as an earlier one is drawn dashed over it (no faint curve);
    microgpt.py is drawn only if it differs from train5.py, else named in its legend entry."""
    import matplotlib  # imported only now: a forked child would count its memory in its own peak
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    first = {}  # (losses, held-out loss): the first script that had them
    twin = {name: first.setdefault((tuple(r['losses']), r['held_out']), name) for name, r in results.items()}
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    colors = plt.get_cmap('tab10').colors
    shown = []  # the values that set the y scale
    for i, (name, r) in enumerate(results.items()):
        if name == 'microgpt.py' and twin[name] != name:
            continue
        steps = range(1, len(r['losses']) + 1)
        smoothed = running_mean(r['losses'], SMOOTH)
        label = f"{name} = microgpt.py" if twin['microgpt.py'] == name != 'microgpt.py' else name
        label += f": {STAGES[name]}" + (f", same numbers as {twin[name]}" if twin[name] != name else '')
        label += f" (held-out {r['held_out']:.3f})" if r['held_out'] is not None else ''
        if twin[name] == name:
            ax.plot(steps, r['losses'], color=colors[i], lw=0.5, alpha=0.1)
        dashed = twin[name] != name or name == 'microgpt.py'
        ax.plot(steps, smoothed, '--' if dashed else '-', color=colors[i], lw=2, label=label)
        shown += smoothed
        if r['held_out'] is not None:
            ax.plot(len(steps), r['held_out'], 'o', color=colors[i], ms=7, mec='black', mew=0.8,
                    clip_on=False, zorder=3)
            shown.append(r['held_out'])
    low, high = min(shown), max(shown)  # the smoothed curves set the scale, not the raw noise
    ax.set_ylim(low - 0.1 * (high - low) - 0.05, high + 0.05 * (high - low) + 0.05)
    ax.set_xlim(0, max(len(r['losses']) for r in results.values()) * 1.03)
    ax.set_xlabel('step')
    ax.set_ylabel('loss (nats per token)')
    ax.set_title(f'Training loss of each stage: mean of the last {SMOOTH} steps, thick; '
                 'each step, faint; held-out loss, dot', fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc='upper right')
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def table(results, command):
    """The Markdown course table of this run, and a line on how it was made."""
    rows = ['| stage | adds | lines | +/- vs previous | held-out loss | CPU s | peak MB |',
            '| --- | --- | ---: | ---: | ---: | ---: | ---: |']
    previous = None
    for name, r in results.items():
        lines = read(os.path.join(ROOT, name)).splitlines()
        before = read(os.path.join(ROOT, previous)).splitlines() if previous else None  # microgpt.py: train5.py
        change = '+{} / -{}'.format(*diff_counts(before, lines)) if previous else '–'
        held_out = f"{r['held_out']:.4f}" if r['held_out'] is not None else '–'
        rows.append(f"| `{name}` | {STAGES[name]} | {len(lines)} | {change} | {held_out} "
                    f"| {r['cpu']:.1f} | {r['rss']:.1f} |")
        previous = name
    v = sys.version_info
    rows.append(f"\nMade by `{command}` with Python {v.major}.{v.minor}.{v.micro} on "
                f"{datetime.date.today().isoformat()}: CPU seconds (user + system) and peak memory "
                f"of each whole run, one after another; +/- counts lines as Python's difflib pairs "
                f"them, which can differ by a line or so from `diff -u`.")
    return '\n'.join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--input', default=os.path.join(ROOT, 'input.txt'), help='one document per line')
    parser.add_argument('--steps', type=int, help="training steps of every script (default: the scripts' own)")
    parser.add_argument('--readme', default=os.path.join(ROOT, 'README.md'), help='the README to update')
    parser.add_argument('--figure', default=os.path.join(DOCS, 'learning-curves.png'), help='PNG to write')
    args = parser.parse_args()
    if args.steps is not None and args.steps < 1:
        parser.error('--steps must be at least 1')
    if importlib.util.find_spec('matplotlib') is None:
        sys.exit("error: docs/report.py needs matplotlib: python3 -m pip install matplotlib")
    try:  # check the README before spending minutes on training
        with open(args.readme, encoding='utf-8', newline='') as f:  # newline='': keep its line endings
            readme = f.read()
    except OSError as e:
        sys.exit(f"error: cannot read {args.readme}: {e.strerror}")
    markers = re.search(rf'(^{re.escape(START)}[ \t]*)\r?$.*?^(?={re.escape(END)}[ \t]*\r?$)', readme, re.M | re.S)
    if not markers:
        sys.exit(f"error: {args.readme} has no '{START}' line followed by a '{END}' line")
    figure_dir = os.path.dirname(os.path.abspath(args.figure))
    if not os.path.isdir(figure_dir):
        sys.exit(f"error: no directory {figure_dir} for the figure")

    results = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        for name in STAGES:
            print(f"{name} ... ", end='', flush=True)
            r = results[name] = run(name, os.path.abspath(args.input), args.steps, tmpdir)
            params = f", {r['params']} params" if r['params'] is not None else ''
            held_out = f"{r['held_out']:.4f}" if r['held_out'] is not None else 'none'
            print(f"{r['cpu']:.1f} s CPU, {r['rss']:.1f} MB{params}, held-out {held_out}", flush=True)

    draw(results, args.figure)
    print(f"wrote {args.figure}")
    command = shlex.join(['python3', os.path.relpath(os.path.abspath(__file__), ROOT)] + sys.argv[1:])
    block = '\n\n' + table(results, command) + '\n\n'
    if '\r\n' in readme:
        block = block.replace('\n', '\r\n')
    with open(args.readme, 'w', encoding='utf-8', newline='') as f:
        f.write(readme[:markers.end(1)] + block + readme[markers.end():])
    print(f"wrote the course table in {args.readme}")
    print(f"total: {sum(r['cpu'] for r in results.values()):.1f} s CPU")


if __name__ == '__main__':
    main()
