"""The course train0.py ... train5.py: every stage runs, train1's gradients are right,
train1 and train2 agree number for number, and the stages share their common blocks
verbatim, so that each diff from one stage to the next shows only its one new idea."""

import ast       # ast.parse, ast.get_docstring
import math      # math.isfinite
import os        # os.path.join
import re        # re.split, re.match, re.search
import shutil    # shutil.rmtree
import tempfile  # tempfile.mkdtemp
import unittest

from tests import support
from report import diff_counts  # docs/report.py, on the path that tests/support.py sets

NUM_STEPS = 30
NAMES = ['emma', 'olivia', 'ava', 'isabella', 'sophia', 'mia', 'charlotte', 'amelia', 'evelyn', 'abigail',
         'harper', 'emily', 'elizabeth', 'avery', 'sofia', 'ella', 'madison', 'scarlett', 'victoria', 'aria',
         'grace', 'chloe', 'camila', 'penelope', 'riley', 'layla', 'lillian', 'nora', 'zoey', 'mila']
CHARS = set(''.join(NAMES))  # 20 letters: a sample with any other character came from the wrong vocabulary
BLOCK_SIZE = 16              # every stage's block_size: the longest a sample can be
FILES = support.STAGES + ['microgpt.py']


def read(name):
    with open(support.script(name), encoding='utf-8') as f:
        return f.read()


def sections(source):
    """{name: text} for each part of a file that starts at a banner line `# ---- Name: ...`,
    the banner included, up to the next banner or the end of the file (in file order)."""
    parts = re.split(r'(?m)^(?=# ---- )', source)
    result = {}
    for part in parts[1:]:  # parts[0]: the docstring and imports, before the first banner
        name = re.match(r'# ---- (\w+):', part).group(1)
        if name in result:
            raise AssertionError(f'section {name} appears twice')
        result[name] = part
    return result


def split_docstring(source):
    """(docstring with its quotes, the rest of the file) for a file that opens with a docstring."""
    if not source.startswith('"""'):
        raise AssertionError('the file does not open with a """ docstring')
    end = source.index('"""', 3) + 3
    return source[:end], source[end:]


def diff_stats(old, new):
    """(lines added, lines removed, re-spaced lines) from old to new, added and removed counted
    as in the README's course table; a re-spaced line is an added line that equals a line of
    old after .strip() but is not in old as it stands."""
    a, b = old.splitlines(), new.splitlines()
    old_lines, old_stripped = set(a), {line.strip() for line in a}
    respaced = [(j + 1, line) for j, line in enumerate(b)
                if line not in old_lines and line.strip() in old_stripped]
    return (*diff_counts(a, b), respaced)


class TestStagesRun(unittest.TestCase):
    """Every stage, run on a small file of names for a few steps."""

    @classmethod
    def setUpClass(cls):
        cls.tmpdir = tempfile.mkdtemp()
        cls.data_path = os.path.join(cls.tmpdir, 'names.txt')
        with open(cls.data_path, 'w', encoding='utf-8') as f:
            f.write('\n'.join(NAMES) + '\n')
        cls.runs = {name: support.run_with(name, cls.data_path, cls.tmpdir, num_steps=NUM_STEPS)
                    for name in support.STAGES}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmpdir)

    def test_each_stage_runs_end_to_end(self):
        for name in support.STAGES:
            with self.subTest(stage=name):
                run = self.runs[name]
                self.assertEqual(run.returncode, 0, run.stderr)
                self.assertEqual(run.stderr, '')
                out = run.stdout
                self.assertIn('num docs: 30 (27 to train on, 3 held out)\n', out)
                self.assertIn(f'vocab size: {len(CHARS) + 1}\n', out)
                steps = support.progress(out)
                self.assertEqual([step for step, _ in steps], list(range(1, NUM_STEPS + 1)))
                for step, loss in steps:
                    self.assertTrue(math.isfinite(loss) and loss > 0, f'step {step}: loss {loss}')
                val_loss = support.held_out_loss(out)
                self.assertTrue(math.isfinite(val_loss) and val_loss > 0, val_loss)
                samples = support.samples(out)
                self.assertEqual(len(samples), 20)
                self.assertTrue(any(samples), 'all 20 samples are empty')
                for sample in samples:
                    self.assertLessEqual(set(sample), CHARS, sample)
                    self.assertLessEqual(len(sample), BLOCK_SIZE, sample)

    def test_train1_gradient_check_passes(self):
        out = self.runs['train1.py'].stdout
        m = re.search(r"^gradient check on '(\w+)': max \|numerical - analytic\| = (\S+) over (\d+) parameters$",
                      out, re.M)
        self.assertIsNotNone(m, out)
        doc, max_diff, n_checked = m.group(1), float(m.group(2)), int(m.group(3))
        self.assertIn(doc, NAMES)
        # nonzero: a central difference never matches the analytic gradient to the last bit,
        # so 0 would mean the check compared a gradient with itself
        self.assertGreater(max_diff, 0)
        self.assertLess(max_diff, 1e-6)
        num_params = int(re.search(r'^num params: (\d+)$', out, re.M).group(1))
        self.assertEqual(n_checked, num_params)
        vocab_size, n_embd = len(CHARS) + 1, 16
        self.assertEqual(num_params, 2 * vocab_size * n_embd + 2 * 4 * n_embd * n_embd)  # wte, lm_head, mlp

    def test_train1_and_train2_print_the_same_numbers(self):
        out1, out2 = self.runs['train1.py'].stdout, self.runs['train2.py'].stdout
        losses1 = support.progress(out1)
        self.assertEqual(len(losses1), NUM_STEPS)
        self.assertEqual(losses1, support.progress(out2))
        self.assertNotEqual(len({loss for _, loss in losses1}), 1)  # the losses do change: there is something to compare
        self.assertEqual(support.held_out_loss(out1), support.held_out_loss(out2))
        held_out_line = re.compile(r'^held-out loss: .*$', re.M)
        self.assertEqual(held_out_line.search(out1).group(), held_out_line.search(out2).group())
        self.assertEqual(len(support.samples(out1)), 20)
        self.assertEqual(support.samples(out1), support.samples(out2))


# The intended design: the sections of each file, in order, and for each section the groups
# of files in which its text (banner line included) is byte for byte the same.
SECTION_ORDER = {
    'train0.py': ['Data', 'Tokenizer', 'Parameters', 'Model', 'Training', 'Evaluation', 'Sampling'],
    'train1.py': ['Data', 'Tokenizer', 'Parameters', 'Model', 'Gradients', 'Optimizer', 'Training',
                  'Evaluation', 'Sampling'],
}
for _name in ['train2.py', 'train3.py', 'train4.py', 'train5.py', 'microgpt.py']:
    SECTION_ORDER[_name] = ['Data', 'Tokenizer', 'Autograd', 'Parameters', 'Model', 'Optimizer', 'Training',
                            'Evaluation', 'Sampling']

SECTION_GROUPS = {
    # the same in every file
    'Data': [FILES],
    'Tokenizer': [FILES],
    # from train2 on, Value and dot() do not change
    'Autograd': [['train2.py', 'train3.py', 'train4.py', 'train5.py', 'microgpt.py']],
    # the model grows in every stage up to multi-head attention (train4), then stays
    'Parameters': [['train0.py'], ['train1.py'], ['train2.py'], ['train3.py'],
                   ['train4.py', 'train5.py', 'microgpt.py']],
    'Model': [['train0.py'], ['train1.py'], ['train2.py'], ['train3.py'],
              ['train4.py', 'train5.py', 'microgpt.py']],
    'Gradients': [['train1.py']],
    # SGD at 1.0 (train1 by hand, train2 on Value), SGD at 0.3 (train3, train4), then Adam
    'Optimizer': [['train1.py'], ['train2.py'], ['train3.py', 'train4.py'], ['train5.py', 'microgpt.py']],
    # counts (train0), hand-derived gradients (train1), then loss.backward() from train2 on
    'Training': [['train0.py'], ['train1.py'], ['train2.py', 'train3.py', 'train4.py', 'train5.py', 'microgpt.py']],
    # plain floats (train0, train1), then Values
    'Evaluation': [['train0.py', 'train1.py'], ['train2.py', 'train3.py', 'train4.py', 'train5.py', 'microgpt.py']],
    # bigram, mlp() on floats, mlp() on Values, then gpt() with a KV cache from train3 on
    'Sampling': [['train0.py'], ['train1.py'], ['train2.py'], ['train3.py', 'train4.py', 'train5.py', 'microgpt.py']],
}

# Lines added and removed (difflib) from each stage to the next, as of this writing:
# 0->1 +99 -18, 1->2 +83 -75, 2->3 +50 -15, 3->4 +15 -11, 4->5 +23 -13.
# The bounds sit a little above, so that an accidental rewrite fails.
MAX_DIFF = {
    ('train0.py', 'train1.py'): (110, 25),
    ('train1.py', 'train2.py'): (95, 85),
    ('train2.py', 'train3.py'): (60, 22),
    ('train3.py', 'train4.py'): (20, 15),
    ('train4.py', 'train5.py'): (30, 18),
}


class TestStagesShareTheirBlocks(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.sources = {name: read(name) for name in FILES}
        cls.sections = {name: sections(src) for name, src in cls.sources.items()}

    def test_sections_in_order(self):
        for name in FILES:
            with self.subTest(file=name):
                self.assertEqual(list(self.sections[name]), SECTION_ORDER[name])

    def test_shared_sections_are_byte_identical(self):
        self.assertEqual(set(SECTION_GROUPS), {s for order in SECTION_ORDER.values() for s in order})
        for section, groups in SECTION_GROUPS.items():
            with self.subTest(section=section):
                having = [name for name in FILES if section in self.sections[name]]
                self.assertEqual(sorted(having), sorted(name for group in groups for name in group))
                actual = {}  # text -> the files that have exactly that text
                for name in having:
                    actual.setdefault(self.sections[name][section], []).append(name)
                self.assertEqual(sorted(map(sorted, actual.values())), sorted(map(sorted, groups)))

    def test_banner_lines_are_identical_wherever_a_section_appears(self):
        for section in SECTION_GROUPS:
            with self.subTest(section=section):
                banners = {self.sections[name][section].split('\n', 1)[0]
                           for name in FILES if section in self.sections[name]}
                self.assertEqual(len(banners), 1, banners)
                self.assertEqual([len(b) for b in banners], [80], banners)  # ruled to one width

    def test_train5_is_microgpt_but_for_the_docstring(self):
        # everything after the module docstring, blank lines included, is the same text
        _, rest5 = split_docstring(self.sources['train5.py'])
        _, rest = split_docstring(self.sources['microgpt.py'])
        self.assertTrue(rest.lstrip('\n').startswith('import '))
        self.assertEqual(rest5, rest)

    def test_stage_diffs_have_no_respaced_lines_and_stay_small(self):
        for (old, new), (max_added, max_removed) in MAX_DIFF.items():
            with self.subTest(diff=f'{old} -> {new}'):
                added, removed, respaced = diff_stats(self.sources[old], self.sources[new])
                self.assertEqual(respaced, [], f'{new}: lines that differ from {old} only in whitespace')
                self.assertGreater(added, 0)
                self.assertLessEqual(added, max_added)
                self.assertLessEqual(removed, max_removed)

    def test_stage_docstrings(self):
        for i, name in enumerate(support.STAGES):
            with self.subTest(stage=name):
                doc = ast.get_docstring(ast.parse(self.sources[name]))
                self.assertIsNotNone(doc)
                lines = doc.splitlines()
                self.assertTrue(lines[0].startswith(f'{name}: '), lines[0])
                previous = f'train{i - 1}.py' if i > 0 else 'microgpt.py'
                same, different = f'Same as {previous}:', f'Different from {previous}:'
                self.assertIn(same, lines)
                self.assertIn(different, lines)
                self.assertLess(lines.index(same), lines.index(different))
                for heading in (same, different):
                    self.assertTrue(lines[lines.index(heading) + 1].startswith('- '),
                                    f'no "- " bullet after {heading!r}')


if __name__ == '__main__':
    unittest.main()
