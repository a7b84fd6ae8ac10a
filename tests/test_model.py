"""microgpt's whole model (loss and every gradient) against an independent PyTorch float64 GPT."""

import contextlib  # contextlib.redirect_stderr
import io          # io.StringIO
import math        # math.sqrt, math.isclose
import random      # random.Random
import tempfile    # tempfile.TemporaryDirectory
import unittest    # unittest.TestCase, unittest.skipUnless

from . import support

try:
    import torch
except ImportError:
    torch = None

DOCS = ['emma', 'olivia', 'ava', 'isabella', 'sophia', 'charlotte', 'mia', 'amelia']
BLOCK_SIZE = 8  # 'isabella' and 'charlotte' do not fit whole: doc_losses stops at 8 positions

# Both sides compute in float64 and differ only in the order of operations, which costs
# ~1e-15 relative; 1e-8 is far above that and far below any modelling difference
# (an rmsnorm eps of 1e-6 instead of 1e-5 moves the loss by ~1e-5 relative).
RTOL = 1e-8


def load_model(tmp, **constants):
    path = support.write_docs(tmp, DOCS)
    with contextlib.redirect_stderr(io.StringIO()):  # the warning about the long names
        return support.load('microgpt.py', path, block_size=BLOCK_SIZE, **constants)


def microgpt_loss(mg, doc):
    losses = mg['doc_losses'](doc)
    loss = (1 / len(losses)) * sum(losses)  # as the training loop does
    loss.backward()
    return loss.data, {name: [[p.grad for p in row] for row in mat] for name, mat in mg['state_dict'].items()}


def rmsnorm(x):
    return x * (x.pow(2).mean(dim=-1, keepdim=True) + 1e-5).rsqrt()


def torch_loss(P, tokens, n_layer, n_head, block_size):
    """A GPT over a whole sequence at once, written from the description, not from microgpt.py:
    batched matrices, a causal mask instead of a KV cache, and torch's cross-entropy."""
    n = min(block_size, len(tokens) - 1)
    inputs, targets = torch.tensor(tokens[:n]), torch.tensor(tokens[1:n + 1])
    x = rmsnorm(P['wte'][inputs] + P['wpe'][:n])  # the norm right after the embeddings
    n_embd = x.shape[1]
    head_dim = n_embd // n_head
    causal = torch.ones(n, n, dtype=torch.bool).tril()
    for li in range(n_layer):
        h = rmsnorm(x)
        q, k, v = (torch.matmul(h, P[f'layer{li}.attn_w{c}'].T).view(n, n_head, head_dim).transpose(0, 1)
                   for c in 'qkv')  # (head, position, head_dim)
        att = (q @ k.transpose(1, 2)) / math.sqrt(head_dim)
        att = att.masked_fill(~causal, float('-inf')).softmax(dim=-1)
        y = (att @ v).transpose(0, 1).reshape(n, n_embd)
        x = x + y @ P[f'layer{li}.attn_wo'].T
        h = rmsnorm(x)
        x = x + torch.relu(h @ P[f'layer{li}.mlp_fc1'].T) @ P[f'layer{li}.mlp_fc2'].T
    logits = x @ P['lm_head'].T
    return torch.nn.functional.cross_entropy(logits, targets)  # mean over positions


def rel_error(a, b):
    """||a - b|| / ||b|| over a whole matrix."""
    return (a - b).norm().item() / b.norm().item()


@unittest.skipUnless(torch is not None, 'PyTorch is not installed')
class TestModelAgainstTorch(unittest.TestCase):
    # (n_layer, n_head, n_embd, std of re-randomized parameters or None for microgpt's own init)
    CONFIGS = [(2, 2, 8, None), (2, 4, 16, 0.25)]

    def check(self, n_layer, n_head, n_embd, std, doc):
        with tempfile.TemporaryDirectory() as tmp:
            mg = load_model(tmp, n_layer=n_layer, n_head=n_head, n_embd=n_embd)
        if std is not None:
            # Weights 3x the 0.08 init: attention logits of order 1, so the weights are far
            # from uniform, and a loss of 5-7 rather than a saturated softmax.
            rng = random.Random(7)
            for p in mg['params']:
                p.data = rng.gauss(0, std)
        P = {name: torch.tensor([[p.data for p in row] for row in mat], dtype=torch.float64, requires_grad=True)
             for name, mat in mg['state_dict'].items()}

        loss, grads = microgpt_loss(mg, doc)
        ref = torch_loss(P, mg['encode'](doc), n_layer, n_head, BLOCK_SIZE)
        ref.backward()

        self.assertTrue(math.isclose(loss, ref.item(), rel_tol=RTOL), (loss, ref.item()))
        self.assertGreater(loss, 0.5)  # a real loss, not a degenerate one
        for name, tensor in P.items():
            with self.subTest(name=name):
                g = torch.tensor(grads[name], dtype=torch.float64)
                g_ref = tensor.grad
                self.assertGreater(g_ref.norm().item(), 1e-6)  # every matrix takes part
                # Per matrix: the norm-based error says the gradient as a whole is right.
                self.assertLessEqual(rel_error(g, g_ref), RTOL)
                # Per entry: an entry that is a small difference of larger terms carries rounding
                # on the scale of those terms, not of itself, so its own relative error is not a
                # fair measure; the floor is RTOL times the largest entry of the same matrix.
                floor = RTOL * g_ref.abs().max().item()
                bad = ((g - g_ref).abs() > RTOL * g_ref.abs() + floor).nonzero().tolist()
                self.assertEqual(bad, [])

    def test_loss_and_every_gradient(self):
        for n_layer, n_head, n_embd, std in self.CONFIGS:
            for doc in ('olivia', 'isabella'):  # a whole name, and one cut at block_size
                with self.subTest(n_layer=n_layer, n_head=n_head, n_embd=n_embd, std=std, doc=doc):
                    self.check(n_layer, n_head, n_embd, std, doc)


class TestParameterCount(unittest.TestCase):
    def test_default_config_on_input_txt(self):
        mg = support.load('microgpt.py', support.script('input.txt'))
        self.assertEqual(mg['vocab_size'], 27)
        self.assertEqual(len(mg['params']), 4192)

    def test_shapes_follow_the_config(self):
        # wte, lm_head: vocab x n_embd; wpe: block_size x n_embd; per layer 4 attention
        # matrices of n_embd x n_embd and two MLP matrices of 4 n_embd x n_embd.
        with tempfile.TemporaryDirectory() as tmp:
            mg = load_model(tmp, n_layer=2, n_head=4, n_embd=16)
        vocab = len(set(''.join(DOCS))) + 1
        shapes = {name: (len(mat), len(mat[0])) for name, mat in mg['state_dict'].items()}
        expected = {'wte': (vocab, 16), 'wpe': (BLOCK_SIZE, 16), 'lm_head': (vocab, 16)}
        for li in range(2):
            expected.update({f'layer{li}.attn_w{c}': (16, 16) for c in 'qkvo'})
            expected.update({f'layer{li}.mlp_fc1': (64, 16), f'layer{li}.mlp_fc2': (16, 64)})
        self.assertEqual(shapes, expected)
        self.assertEqual(len(mg['params']), 2 * vocab * 16 + BLOCK_SIZE * 16 + 2 * 12 * 16 * 16)


if __name__ == '__main__':
    unittest.main()
