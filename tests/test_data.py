"""The shipped data file, input.txt: the exact bytes the golden run was made on."""

import hashlib   # hashlib.sha256
import string    # string.ascii_lowercase
import unittest  # unittest.TestCase

from . import support

INPUT = support.script('input.txt')


class TestInputFile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(INPUT, 'rb') as f:
            cls.data = f.read()
        cls.lines = cls.data.decode('ascii').split('\n')[:-1]  # the text ends with '\n'

    def test_sha256(self):
        # Pins the exact file: the golden losses and samples hold for these bytes only.
        self.assertEqual(hashlib.sha256(self.data).hexdigest(),
                         '91691165b471c338ee35387260590f0fdc23fcb50509b9ccfe1c879c7ac39a1e')

    def test_ends_with_newline(self):
        self.assertTrue(self.data.endswith(b'\n'))
        self.assertFalse(self.data.endswith(b'\n\n'))

    def test_line_count(self):
        self.assertEqual(len(self.lines), 32469)

    def test_every_line_is_a_lowercase_name(self):
        allowed = set(string.ascii_lowercase)
        bad = [(i + 1, line) for i, line in enumerate(self.lines) if not line or not set(line) <= allowed]
        self.assertEqual(bad, [])  # also rules out '\r', spaces and blank lines

    def test_alphabet_is_complete(self):
        # All 26 letters occur, so the vocabulary is 26 + BOS = 27.
        self.assertEqual(set(''.join(self.lines)), set(string.ascii_lowercase))

    def test_longest_line_fits_block_size(self):
        # A name of 15 characters takes exactly microgpt.py's 16 positions (block_size).
        self.assertEqual(max(len(line) for line in self.lines), 15)


if __name__ == '__main__':
    unittest.main()
