"""docs/report.py: runs every stage, draws the learning curves, rewrites the README's course table."""

import importlib.util  # importlib.util.find_spec
import os              # os.path
import re              # re.findall, re.search
import subprocess      # subprocess.run
import sys             # sys.executable
import tempfile        # tempfile.TemporaryDirectory
import unittest

from tests.support import ROOT, STAGES

REPORT = os.path.join(ROOT, 'docs', 'report.py')
NAMES = ['emma', 'olivia', 'ava', 'isabella', 'sophia', 'mia', 'amelia', 'harper', 'evelyn', 'abigail',
         'liam', 'noah', 'william', 'james', 'logan', 'benjamin', 'mason', 'elijah', 'oliver', 'jacob']
BEFORE = '# microgpt\n\nSome text before the table.\n\n<!-- course-table:start -->\n'
AFTER = '<!-- course-table:end -->\n\nSome text after it.\n'


@unittest.skipUnless(importlib.util.find_spec('matplotlib'), 'matplotlib is not installed')
class TestReport(unittest.TestCase):

    def report(self, tmp, readme_text, *args):
        """Run docs/report.py from tmp on a tiny input for 5 steps; return (process, README, figure path)."""
        data, readme, figure = (os.path.join(tmp, f) for f in ('names.txt', 'README.md', 'curves.png'))
        with open(data, 'w', encoding='utf-8') as f:
            f.write('\n'.join(NAMES) + '\n')
        with open(readme, 'w', encoding='utf-8') as f:
            f.write(readme_text)
        proc = subprocess.run([sys.executable, REPORT, '--input', data, '--steps', '5', '--readme', readme,
                               '--figure', figure, *args], capture_output=True, text=True, cwd=tmp)
        with open(readme, encoding='utf-8') as f:
            return proc, f.read(), figure

    def test_table_and_figure(self):
        with tempfile.TemporaryDirectory() as tmp:
            proc, readme, figure = self.report(tmp, BEFORE + 'the old table\n' + AFTER)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertTrue(readme.startswith(BEFORE) and readme.endswith(AFTER), readme)
            self.assertNotIn('the old table', readme)
            rows = re.findall(r'^\| `(\S+\.py)` \|(.*)\|$', readme, re.M)
            self.assertEqual([name for name, _ in rows], STAGES + ['microgpt.py'])
            for i, (name, cells) in enumerate(rows):
                adds, lines, change, held_out, cpu, peak = (c.strip() for c in cells.split('|'))
                self.assertRegex(held_out, r'^\d+\.\d{4}$', name)
                self.assertTrue(adds and int(lines) > 0 and float(cpu) >= 0 and float(peak) > 0, name)
                if i > 0:
                    self.assertRegex(change, r'^\+\d+ / -\d+$', name)
            self.assertIn('docs/report.py', readme[len(BEFORE):-len(AFTER)])
            self.assertIn('total:', proc.stdout)
            with open(figure, 'rb') as f:
                self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')
            self.assertGreater(os.path.getsize(figure), 1000)

    def test_missing_markers(self):
        with tempfile.TemporaryDirectory() as tmp:
            proc, readme, figure = self.report(tmp, '# microgpt\n\nNo table here.\n')
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn('course-table:start', proc.stderr)
            self.assertEqual(readme, '# microgpt\n\nNo table here.\n')
            self.assertFalse(os.path.exists(figure))


if __name__ == '__main__':
    unittest.main()
