"""microgpt's autograd (Value and dot) against central finite differences and PyTorch float64."""

import math      # math.log, math.exp, math.isclose
import random    # random.Random
import tempfile  # tempfile.TemporaryDirectory
import unittest  # unittest.TestCase, unittest.skipUnless

from . import support

try:
    import torch
except ImportError:
    torch = None


def setUpModule():
    global Value, dot
    with tempfile.TemporaryDirectory() as tmp:
        mg = support.load('microgpt.py', support.write_docs(tmp, ['emma', 'olivia', 'ava']))
    Value, dot = mg['Value'], mg['dot']


# Each expression is written once and evaluated by three backends: microgpt's Value,
# plain floats (for finite differences) and torch tensors. Only log, exp, relu and dot
# differ between them; everything else is Python operators.

class ValueOps:
    log = staticmethod(lambda x: x.log())
    exp = staticmethod(lambda x: x.exp())
    relu = staticmethod(lambda x: x.relu())
    dot = staticmethod(lambda a, b: dot(a, b))


class FloatOps:
    log = staticmethod(math.log)
    exp = staticmethod(math.exp)
    relu = staticmethod(lambda x: max(0.0, x))
    dot = staticmethod(lambda a, b: sum(ai * bi for ai, bi in zip(a, b)))


class TorchOps:
    log = staticmethod(lambda x: torch.log(x))
    exp = staticmethod(lambda x: torch.exp(x))
    relu = staticmethod(lambda x: torch.relu(x))
    dot = staticmethod(lambda a, b: torch.dot(torch.stack(a), torch.stack(b)))


def nested(x, F):
    # Intermediate nodes used several times, at several depths.
    a, b, c = x
    d = a * b + a               # a twice
    e = d * d - F.exp(d) / b    # d three times, b twice
    f = F.log(e * e + 1) * d + F.relu(d - c) - F.relu(c - d)
    return f / (a * a + e) + 0.5 * f * c


def rmsnorm_like(x, F):
    # The shape of microgpt's rmsnorm: each input enters dot(x, x) twice and the output once more.
    scale = (F.dot(x, x) / len(x) + 1e-5) ** -0.5
    return sum(w * xi * scale for w, xi in zip([0.3, -1.2, 0.7, 2.1], x))


# name: (number of inputs, inputs positive only?, expression)
CASES = {
    'add': (2, False, lambda x, F: x[0] + x[1]),
    'add number': (1, False, lambda x, F: x[0] + 1.75),
    'mul': (2, False, lambda x, F: x[0] * x[1]),
    'mul number': (1, False, lambda x, F: x[0] * -2.5),
    'pow 3': (1, False, lambda x, F: x[0] ** 3),
    'pow -2': (1, False, lambda x, F: x[0] ** -2),
    'pow 0.5': (1, True, lambda x, F: x[0] ** 0.5),
    'pow -1.5': (1, True, lambda x, F: x[0] ** -1.5),
    'log': (1, True, lambda x, F: F.log(x[0])),
    'exp': (1, False, lambda x, F: F.exp(x[0])),
    'relu of positive': (2, True, lambda x, F: F.relu(x[0]) * x[1]),
    'relu of negative': (2, True, lambda x, F: F.relu(-x[0]) * x[1] + x[1]),  # grad 0 through relu
    'neg': (1, False, lambda x, F: -x[0]),
    'radd': (1, False, lambda x, F: 1.75 + x[0]),
    'sub': (2, False, lambda x, F: x[0] - x[1]),
    'rsub': (1, False, lambda x, F: 2.5 - x[0]),
    'rmul': (1, False, lambda x, F: -2.5 * x[0]),
    'truediv': (2, False, lambda x, F: x[0] / x[1]),
    'rtruediv': (1, False, lambda x, F: 3.0 / x[0]),
    'sum of list (radd from 0)': (3, False, lambda x, F: sum([x[0], x[1] * x[2], x[2]])),
    'dot': (8, False, lambda x, F: F.dot(x[:4], x[4:])),
    'dot(x, x)': (4, False, lambda x, F: F.dot(x, x)),
    'dot with shared nodes': (3, False, lambda x, F: F.dot([x[0], x[1], x[0]], [x[1], x[2], x[0]])),
    'dot of computed nodes': (3, False, lambda x, F: F.dot([x[0] * x[1], F.exp(x[2])], [x[2], x[0] * x[1]])),
    'a*b + a*a': (2, False, lambda x, F: x[0] * x[1] + x[0] * x[0]),
    'nested reuse': (3, True, nested),
    'rmsnorm-like': (4, False, rmsnorm_like),
}

# Central differences with step H are accurate to about H**2 * f''' (1e-10 here) plus
# rounding of eps * f / H (1e-11): 1e-7 leaves a wide margin, while a wrong derivative is off by O(1).
H = 1e-5
FD_RTOL, FD_ATOL = 1e-7, 1e-9
# Value and torch do the same float64 arithmetic, maybe in another order: they agree to a few ulps.
TORCH_RTOL, TORCH_ATOL = 1e-12, 1e-15


def random_inputs(n, positive, seed):
    # Magnitudes in [0.5, 1.5] and random signs: non-zero, away from relu's kink and log's pole.
    rng = random.Random(seed)
    return [rng.uniform(0.5, 1.5) * (1 if positive else rng.choice((-1, 1))) for _ in range(n)]


def value_grads(expr, inputs):
    leaves = [Value(x) for x in inputs]
    out = expr(leaves, ValueOps)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def finite_differences(expr, inputs):
    grads = []
    for i in range(len(inputs)):
        up, down = list(inputs), list(inputs)
        up[i] += H
        down[i] -= H
        grads.append((expr(up, FloatOps) - expr(down, FloatOps)) / (2 * H))
    return expr(inputs, FloatOps), grads


def torch_grads(expr, inputs):
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    out = expr(leaves, TorchOps)
    out.backward()
    return out.item(), [leaf.grad.item() for leaf in leaves]


class TestAgainstFiniteDifferences(unittest.TestCase):
    def test_every_op(self):
        for seed, (name, (n, positive, expr)) in enumerate(CASES.items()):
            with self.subTest(name):
                inputs = random_inputs(n, positive, seed)
                value, grads = value_grads(expr, inputs)
                ref_value, ref_grads = finite_differences(expr, inputs)
                self.assertTrue(math.isclose(value, ref_value, rel_tol=1e-12), (value, ref_value))
                for i, (g, ref) in enumerate(zip(grads, ref_grads)):
                    self.assertTrue(math.isclose(g, ref, rel_tol=FD_RTOL, abs_tol=FD_ATOL),
                                    f'input {i}: autograd {g!r}, finite differences {ref!r}')

    def test_gradients_are_not_trivially_zero(self):
        # Guards the comparison above: apart from relu of a negative input, every input matters.
        for seed, (name, (n, positive, expr)) in enumerate(CASES.items()):
            with self.subTest(name):
                _, grads = value_grads(expr, random_inputs(n, positive, seed))
                if name == 'relu of negative':
                    self.assertEqual(grads, [0.0, 1.0])
                else:
                    self.assertTrue(all(abs(g) > 1e-3 for g in grads), grads)


@unittest.skipUnless(torch is not None, 'PyTorch is not installed')
class TestAgainstTorch(unittest.TestCase):
    def test_every_op(self):
        for seed, (name, (n, positive, expr)) in enumerate(CASES.items()):
            with self.subTest(name):
                inputs = random_inputs(n, positive, seed)
                value, grads = value_grads(expr, inputs)
                ref_value, ref_grads = torch_grads(expr, inputs)
                self.assertTrue(math.isclose(value, ref_value, rel_tol=TORCH_RTOL, abs_tol=TORCH_ATOL),
                                (value, ref_value))
                for i, (g, ref) in enumerate(zip(grads, ref_grads)):
                    self.assertTrue(math.isclose(g, ref, rel_tol=TORCH_RTOL, abs_tol=TORCH_ATOL),
                                    f'input {i}: autograd {g!r}, torch {ref!r}')


class TestDeepGraph(unittest.TestCase):
    def test_backward_through_200000_nodes(self):
        # y <- y * r + x, 100,000 times: a chain 200,000 nodes deep, far past the recursion
        # limit, with x used at every level. y = x * (1 + r + ... + r**N), so
        # dy/dx = (r**(N+1) - 1) / (r - 1).
        n, r = 100_000, 0.99999
        x = Value(0.75)
        y = x
        for _ in range(n):
            y = y * r + x
        y.backward()
        expected = (r**(n + 1) - 1) / (r - 1)
        self.assertTrue(math.isclose(x.grad, expected, rel_tol=1e-9), (x.grad, expected))
        self.assertTrue(math.isclose(y.data, 0.75 * expected, rel_tol=1e-9), (y.data, 0.75 * expected))


if __name__ == '__main__':
    unittest.main()
