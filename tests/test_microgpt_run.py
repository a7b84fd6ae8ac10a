"""Whole runs of microgpt.py as a user makes them: exact output, errors, and data of other shapes."""

import ctypes      # ctypes.CDLL, for prctl when running as root
import os          # os.path, os.chmod, os.geteuid
import random      # random.getstate, random.Random
import subprocess  # subprocess.SubprocessError
import sys         # sys.platform
import tempfile    # tempfile.TemporaryDirectory
import unittest    # unittest.TestCase, unittest.skipUnless

from . import support

NAMES = os.path.join(support.REFERENCE, 'names.txt')


def first_line(stdout, prefix):
    return next(line for line in stdout.splitlines() if line.startswith(prefix))


@unittest.skipUnless(os.path.isfile(NAMES), 'reference names.txt not present')
class TestFidelityToReference(unittest.TestCase):
    """On the data the reference results were published for, microgpt.py prints the same numbers."""

    @classmethod
    def setUpClass(cls):
        cls.proc = support.run('microgpt.py', NAMES)  # the full 1000 steps: the schedule depends on it

    def test_exits_cleanly(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertEqual(self.proc.stderr, '')

    def test_sizes(self):
        self.assertIn('num params: 4192\n', self.proc.stdout)
        self.assertIn('vocab size: 27\n', self.proc.stdout)

    def test_first_losses(self):
        losses = [f'{loss:.4f}' for _, loss in support.progress(self.proc.stdout)[:13]]
        self.assertEqual(' '.join(losses),
                         '3.3660 3.4243 3.1778 3.0664 3.2209 2.9452 3.2894 3.3245 2.8990 3.2229 2.7964 2.9345 3.0544')

    def test_last_loss(self):
        self.assertEqual(support.progress(self.proc.stdout)[-1], (1000, 2.6497))

    def test_samples(self):
        self.assertEqual(support.samples(self.proc.stdout),
                         'kamon ann karai jaire vialan karia yeran anna areli kaina '
                         'konna keylen liole alerin earan lenne kana lara alela anton'.split())


class TestGoldenRun(unittest.TestCase):
    """`python /abs/path/microgpt.py` from another directory: finds input.txt beside itself."""

    @classmethod
    def setUpClass(cls):
        with tempfile.TemporaryDirectory() as tmp:  # an empty cwd: no input.txt to find by accident
            cls.proc = support.run('microgpt.py', cwd=tmp)

    def test_exits_cleanly(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertEqual(self.proc.stderr, '')

    def test_header(self):
        self.assertEqual(self.proc.stdout.splitlines()[:3],
                         ['num docs: 32469 (31969 to train on, 500 held out)', 'vocab size: 27', 'num params: 4192'])

    def test_every_step_is_reported(self):
        self.assertEqual([step for step, _ in support.progress(self.proc.stdout)], list(range(1, 1001)))

    def test_losses(self):
        losses = [f'{loss:.4f}' for _, loss in support.progress(self.proc.stdout)]
        self.assertEqual(' '.join(losses[:13]),
                         '3.3563 3.0751 3.2180 3.2294 3.0715 2.8799 3.1713 3.2100 3.2249 3.2893 2.7222 2.6921 2.4762')
        self.assertEqual(losses[-1], '2.1588')

    def test_held_out_loss(self):
        self.assertEqual(support.held_out_loss(self.proc.stdout), 2.3570)
        self.assertIn('(mean over 3565 tokens)', first_line(self.proc.stdout, 'held-out loss:'))

    def test_samples(self):
        self.assertEqual(support.samples(self.proc.stdout),
                         'cytaer malia kanle saran yacon raria jaani daelin manan taya '
                         'aetonn barin bayla kaylen misana daorela beri aron jalia ouin'.split())


# Root reads a file whatever its mode. The usual way around that, running the child as
# nobody, fails when the interpreter lives under a private home (e.g. pyenv in /root):
# instead the child keeps root but loses the two capabilities that bypass file modes.
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def without_file_mode_override():
    """A preexec_fn for subprocess: the child, once exec'd, cannot read files its mode forbids."""
    libc = ctypes.CDLL(None, use_errno=True)  # loaded here, not in the forked child

    def drop():
        for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:  # exec gives root no more than this set
                raise OSError(ctypes.get_errno(), 'prctl(PR_CAPBSET_DROP) failed')
    return drop


class TestBadInput(unittest.TestCase):
    """Every mistake a user can make with the data file ends in one line on stderr and status 1."""

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, 'wb') as f:
            f.write(data)
        return path

    def assertFails(self, proc, message):
        self.assertNotIn('Traceback', proc.stderr)
        self.assertEqual(proc.stderr, message + '\n')
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, '')  # it stops before printing anything

    def test_missing_file(self):
        path = os.path.join(self.tmp, 'missing.txt')
        self.assertFails(support.run('microgpt.py', path), f'error: cannot read {path}: No such file or directory')

    def test_directory(self):
        self.assertFails(support.run('microgpt.py', self.tmp), f'error: cannot read {self.tmp}: Is a directory')

    def test_unreadable_file(self):
        path = self.write('secret.txt', b'emma\nolivia\n')
        os.chmod(path, 0)
        kwargs = {}
        if os.geteuid() == 0:
            if not sys.platform.startswith('linux'):
                self.skipTest('root reads any file; dropping that power needs Linux capabilities')
            kwargs['preexec_fn'] = without_file_mode_override()
        try:
            proc = support.run('microgpt.py', path, **kwargs)
        except subprocess.SubprocessError as e:  # no CAP_SETPCAP: the drop is not allowed here
            self.skipTest(f'cannot make a file unreadable for root here: {e}')
        self.assertFails(proc, f'error: cannot read {path}: Permission denied')

    def test_not_utf8(self):
        path = self.write('latin1.txt', b'emma\nol\xefvia\nava\n')  # 'i' with diaeresis in Latin-1
        self.assertFails(support.run('microgpt.py', path),
                         f'error: cannot read {path}: not UTF-8 text (invalid byte at offset 7)')

    def test_not_utf8_far_into_the_file(self):
        # the offset counts from the start of the file, past any internal read buffer
        path = self.write('late.txt', b'emma\n' * 5000 + b'jos\xe9\n')
        self.assertFails(support.run('microgpt.py', path),
                         f'error: cannot read {path}: not UTF-8 text (invalid byte at offset 25003)')

    def test_not_utf8_after_a_byte_order_mark(self):
        path = self.write('bom.txt', b'\xef\xbb\xbfab\xff\n')  # the mark is 3 bytes: the bad byte is at 5
        self.assertFails(support.run('microgpt.py', path),
                         f'error: cannot read {path}: not UTF-8 text (invalid byte at offset 5)')

    def test_empty_file(self):
        path = self.write('empty.txt', b'')
        self.assertFails(support.run('microgpt.py', path),
                         f'error: no documents in {path}: the file is empty or has only blank lines')

    def test_whitespace_only_file(self):
        path = self.write('blank.txt', b'\n  \n\t\r\n \n')
        self.assertFails(support.run('microgpt.py', path),
                         f'error: no documents in {path}: the file is empty or has only blank lines')

    def test_too_many_arguments(self):
        self.assertFails(support.run('microgpt.py', 'a.txt', 'b.txt'),
                         f'usage: python {support.script("microgpt.py")} [file with one document per line]')


class TestOtherData(unittest.TestCase):
    """Short patched runs (few steps) on data unlike input.txt."""

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name

    def assertRanCleanly(self, proc, stderr=''):
        self.assertNotIn('Traceback', proc.stderr)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, stderr)

    def test_long_documents_warn_and_train(self):
        # 15 characters still fit (BOS + 15 inputs in 16 positions); 16 and more do not.
        docs = ['abcdefghijklmno', 'abcdefghijklmnop', 'bartholomewjames', 'annemariechristina',
                'maximilianalexander', 'x' * 40]
        proc = support.run_with('microgpt.py', support.write_docs(self.tmp, docs), self.tmp, num_steps=3)
        self.assertRanCleanly(proc, stderr=(
            'warning: 5 of 6 documents are longer than block_size - 1 = 15 characters: the model learns '
            'only their first 16 characters and never their end (raise block_size to keep them whole)\n'))
        self.assertEqual([step for step, _ in support.progress(proc.stdout)], [1, 2, 3])
        self.assertEqual(len(support.samples(proc.stdout)), 20)

    def test_byte_order_mark_and_crlf_are_not_characters(self):
        path = os.path.join(self.tmp, 'windows.txt')
        with open(path, 'wb') as f:
            f.write('\ufeffemma\r\nolivia\r\nava\r\n'.encode('utf-8'))
        proc = support.run_with('microgpt.py', path, self.tmp, num_steps=2)
        self.assertRanCleanly(proc)
        self.assertIn('vocab size: 8\n', proc.stdout)  # a e i l m o v, and BOS

    def test_heads_must_divide_the_width(self):
        path = support.write_docs(self.tmp, ['emma', 'olivia', 'ava'])
        proc = support.run_with('microgpt.py', path, self.tmp, n_head=3)
        self.assertNotIn('Traceback', proc.stderr)
        self.assertEqual(proc.stderr, 'error: n_embd = 16 is not a multiple of n_head = 3\n')
        self.assertEqual(proc.returncode, 1)

    def test_larger_model_trains(self):
        # 4 layers of width 64 on long names: a deep and wide graph for backward().
        docs = ['alexandria', 'christopher', 'maximiliano', 'jacqueline', 'bartholomew',
                'evangeline', 'sebastian', 'anastasia', 'guadalupe', 'emmanuel']
        proc = support.run_with('microgpt.py', support.write_docs(self.tmp, docs), self.tmp,
                                n_layer=4, n_embd=64, n_head=4, num_steps=2, num_samples=2)
        self.assertRanCleanly(proc)
        vocab = len(set(''.join(docs))) + 1
        self.assertIn(f'num params: {2 * vocab * 64 + 16 * 64 + 4 * 12 * 64 * 64}\n', proc.stdout)
        self.assertEqual([step for step, _ in support.progress(proc.stdout)], [1, 2])

    def test_katakana_names(self):
        names = ['サクラ', 'ハルト', 'ユイ', 'ソウタ', 'ヒナタ', 'ユウト', 'リン', 'アオイ', 'レン', 'メイ',
                 'ミオ', 'ハルキ', 'ユナ', 'イツキ', 'アカリ', 'ソラ', 'ユヅキ', 'カイト', 'ヒマリ', 'リコ',
                 'タクミ', 'ミユ', 'コハル', 'ユウマ', 'サナ', 'ハヤト', 'ツムギ', 'アヤ', 'ケンタ', 'ナナミ']
        chars = set(''.join(names))
        proc = support.run_with('microgpt.py', support.write_docs(self.tmp, names), self.tmp, num_steps=30)
        self.assertRanCleanly(proc)
        self.assertIn('num docs: 30 (27 to train on, 3 held out)\n', proc.stdout)
        self.assertIn(f'vocab size: {len(chars) + 1}\n', proc.stdout)
        samples = support.samples(proc.stdout)
        self.assertEqual(len(samples), 20)
        self.assertTrue(any(samples))  # some samples are non-empty, so the check below has teeth
        self.assertEqual([s for s in samples if not set(s) <= chars], [])

    def split(self, docs):
        proc = support.run_with('microgpt.py', support.write_docs(self.tmp, docs), self.tmp, num_steps=1)
        self.assertRanCleanly(proc)
        return first_line(proc.stdout, 'num docs:'), first_line(proc.stdout, 'held-out loss:')

    def test_held_out_split(self):
        # Documents of equal length make the held-out token count independent of the shuffle.
        with self.subTest(docs=1):
            self.assertEqual(self.split(['emma']), ('num docs: 1 (1 to train on, 0 held out)',
                                                    'held-out loss: none (a single document: nothing to hold out)'))
        with self.subTest(docs=2):
            docs_line, loss_line = self.split(['emma', 'liam'])
            self.assertEqual(docs_line, 'num docs: 2 (1 to train on, 1 held out)')
            self.assertRegex(loss_line, r'^held-out loss: \d+\.\d{4} \(mean over 5 tokens\)$')
        rng = random.Random(3)
        for n, n_val, length in ((50, 5, 3), (10_000, 500, 1)):
            with self.subTest(docs=n):
                docs = [''.join(rng.choice('abcdefghij') for _ in range(length)) for _ in range(n)]
                docs_line, loss_line = self.split(docs)
                self.assertEqual(docs_line, f'num docs: {n} ({n - n_val} to train on, {n_val} held out)')
                tokens = n_val * (length + 1)  # each document's characters, then BOS
                self.assertRegex(loss_line, rf'^held-out loss: \d+\.\d{{4}} \(mean over {tokens} tokens\)$')


class TestEvaluationIsDeterministic(unittest.TestCase):
    def test_doc_losses_draw_no_random_numbers(self):
        # The samples come after the evaluation from the same random stream: evaluating must not
        # move it, or the held-out split would change the samples.
        with tempfile.TemporaryDirectory() as tmp:
            mg = support.load('microgpt.py', support.write_docs(tmp, ['emma', 'olivia', 'ava', 'noah', 'liam']))
        state = random.getstate()
        first = [[loss.data for loss in mg['doc_losses'](doc)] for doc in mg['val_docs'] + mg['train_docs']]
        self.assertEqual(random.getstate(), state)
        again = [[loss.data for loss in mg['doc_losses'](doc)] for doc in mg['val_docs'] + mg['train_docs']]
        self.assertEqual(first, again)
        self.assertEqual([len(x) for x in first], [len(doc) + 1 for doc in mg['val_docs'] + mg['train_docs']])


if __name__ == '__main__':
    unittest.main()
