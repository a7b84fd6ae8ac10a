"""
train3.py: attention: each position looks back at all the earlier ones (one head).

Same as train2.py:
- data, tokenizer, autograd, SGD, training, evaluation, sampling; the MLP block
Different from train2.py:
- wpe: a position embedding, added to the token embedding (drawn before
  lm_head, so the starting weights differ from train2's from there on)
- attention: this position's query is matched against every key so far, and
  their values are mixed by that match; keys and values wait in a KV cache
- RMSNorm before each part of the block, a residual connection around it
- learning_rate 0.3: at 1.0 this deeper model diverges

Until now the model saw one character; now it sees the whole document so far.
"""

import math      # math.log, math.exp
import operator  # operator.mul
import os        # os.path.join, os.path.dirname, os.path.abspath
import random    # random.seed, random.shuffle, random.gauss, random.choices
import sys       # sys.argv, sys.exit, sys.stderr
import time      # time.perf_counter

random.seed(42)  # every random number below comes from this one stream, in a fixed order

# ---- Data: one document per non-blank line -----------------------------------
if len(sys.argv) > 2:
    sys.exit(f"usage: python {sys.argv[0]} [file with one document per line]")
default_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'input.txt')
path = sys.argv[1] if len(sys.argv) > 1 else default_path
try:
    with open(path, 'rb') as f:
        text = f.read().decode('utf-8').removeprefix('\ufeff')  # a byte-order mark is not text
except OSError as e:
    sys.exit(f"error: cannot read {path}: {e.strerror}")
except UnicodeDecodeError as e:
    sys.exit(f"error: cannot read {path}: not UTF-8 text (invalid byte at offset {e.start})")
docs = [line.strip() for line in text.split('\n') if line.strip()]
if not docs:
    sys.exit(f"error: no documents in {path}: the file is empty or has only blank lines")
random.shuffle(docs)
n_val = min(500, max(1, len(docs) // 10), len(docs) - 1)  # a tenth, at most 500, leaving one to train on
train_docs, val_docs = docs[:len(docs) - n_val], docs[len(docs) - n_val:]
print(f"num docs: {len(docs)} ({len(train_docs)} to train on, {len(val_docs)} held out)")

# ---- Tokenizer: one token per character, plus BOS ----------------------------
uchars = sorted(set(''.join(docs)))  # the unique characters become token ids 0..n-1
BOS = len(uchars)                    # one more token marks where a document begins and ends
vocab_size = len(uchars) + 1
stoi = {ch: i for i, ch in enumerate(uchars)}
print(f"vocab size: {vocab_size}")

def encode(doc):  # a document as token ids: [BOS, c1, ..., cn, BOS]
    return [BOS] + [stoi[ch] for ch in doc] + [BOS]

# ---- Autograd: scalars that remember how they were computed ------------------
class Value:
    __slots__ = ('data', 'grad', '_children', '_local_grads')

    def __init__(self, data, children=(), local_grads=()):
        self.data = data                 # the number, from the forward pass
        self.grad = 0                    # d(loss)/d(this node), from backward()
        self._children = children        # the nodes this one was computed from
        self._local_grads = local_grads  # d(this node)/d(each child)

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, k): return Value(self.data**k, (self,), (k * self.data**(k - 1),))  # k: a plain number
    def log(self): return Value(math.log(self.data), (self,), (1 / self.data,))
    def exp(self): return Value(math.exp(self.data), (self,), (math.exp(self.data),))
    def relu(self): return Value(max(0, self.data), (self,), (float(self.data > 0),))
    def __neg__(self): return self * -1
    def __radd__(self, other): return self + other
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)
    def __rmul__(self, other): return self * other
    def __truediv__(self, other): return self * other**-1
    def __rtruediv__(self, other): return other * self**-1

    def backward(self):
        # Order the graph so that every node comes after the nodes it was computed
        # from: a depth-first search with an explicit stack, so that graph depth
        # has no recursion limit. Leaves (parameters, constants) need no place in it.
        topo, visited, stack = [], {self}, [(self, iter(self._children))]
        while stack:
            v, children = stack[-1]  # the iterator remembers how far v's children were scanned
            for child in children:
                if child._children and child not in visited:
                    visited.add(child)
                    stack.append((child, iter(child._children)))
                    break  # finish this child's subgraph first
            else:  # all of v's children are placed: place v
                stack.pop()
                topo.append(v)
        # The chain rule, from the loss back to the parameters.
        self.grad = 1
        for v in reversed(topo):
            g = v.grad
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * g

def dot(a, b):
    # sum(ai * bi) as a single node: d/d(ai) is bi and d/d(bi) is ai. One node
    # instead of 2n keeps the graph, and so the time and memory, small.
    a_data = [ai.data for ai in a]
    b_data = [bi.data for bi in b]
    # children: a's entries then b's; a node in both, as in dot(x, x), collects both gradients
    return Value(sum(map(operator.mul, a_data, b_data)), a + b, b_data + a_data)

# ---- Parameters: the knowledge of the model ----------------------------------
n_layer = 1                  # blocks, one after another
n_embd = 16                  # width of each position's vector
block_size = 16              # longest context, in tokens (the longest name has 15 characters)

too_long = sum(len(doc) >= block_size for doc in docs)  # a document needs len(doc) + 1 positions
if too_long:
    print(f"warning: {too_long} of {len(docs)} documents are longer than block_size - 1 = "
          f"{block_size - 1} characters: the model learns only their first {block_size} characters "
          f"and never their end (raise block_size to keep them whole)", file=sys.stderr)

def matrix(nout, nin, std=0.08):
    return [[Value(random.gauss(0, std)) for _ in range(nin)] for _ in range(nout)]

state_dict = {}
state_dict['wte'] = matrix(vocab_size, n_embd)  # token embeddings
state_dict['wpe'] = matrix(block_size, n_embd)  # position embeddings
state_dict['lm_head'] = matrix(vocab_size, n_embd)
for li in range(n_layer):
    state_dict[f'layer{li}.attn_wq'] = matrix(n_embd, n_embd)
    state_dict[f'layer{li}.attn_wk'] = matrix(n_embd, n_embd)
    state_dict[f'layer{li}.attn_wv'] = matrix(n_embd, n_embd)
    state_dict[f'layer{li}.attn_wo'] = matrix(n_embd, n_embd)
    state_dict[f'layer{li}.mlp_fc1'] = matrix(4 * n_embd, n_embd)
    state_dict[f'layer{li}.mlp_fc2'] = matrix(n_embd, 4 * n_embd)
params = [p for mat in state_dict.values() for row in mat for p in row]
print(f"num params: {len(params)}")

# ---- Model: the next-token logits, one position at a time --------------------
def linear(x, w):  # w has one row per output: (nout, nin) @ (nin,) -> (nout,)
    return [dot(w_row, x) for w_row in w]

def softmax(logits):
    max_val = max(l.data for l in logits)  # the shift cancels out, and keeps exp() finite
    exps = [(l - max_val).exp() for l in logits]
    scale = sum(exps) ** -1  # one division, shared by every entry
    return [e * scale for e in exps]

def rmsnorm(x):  # rescale x to unit root-mean-square (no learned weights)
    ms = dot(x, x) / len(x)
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]

def attention(q, ks, vs):  # one head: q against each cached key (none later), mixing the values
    attn_logits = [dot(q, k) / len(q)**0.5 for k in ks]  # / sqrt(width): same spread at any width
    attn_weights = softmax(attn_logits)
    return [dot(attn_weights, [v[j] for v in vs]) for j in range(len(q))]

def gpt(token_id, pos_id, keys, values):
    tok_emb = state_dict['wte'][token_id]
    pos_emb = state_dict['wpe'][pos_id]
    x = [t + p for t, p in zip(tok_emb, pos_emb)]
    x = rmsnorm(x)  # the residual stream starts from the normalized embedding
    for li in range(n_layer):
        # 1) attention over this and all earlier positions
        x_residual = x
        x = rmsnorm(x)
        q = linear(x, state_dict[f'layer{li}.attn_wq'])
        k = linear(x, state_dict[f'layer{li}.attn_wk'])
        v = linear(x, state_dict[f'layer{li}.attn_wv'])
        keys[li].append(k)  # the KV cache: later positions will attend to this one
        values[li].append(v)
        x_attn = attention(q, keys[li], values[li])
        x = linear(x_attn, state_dict[f'layer{li}.attn_wo'])
        x = [a + b for a, b in zip(x, x_residual)]
        # 2) MLP
        x_residual = x
        x = rmsnorm(x)
        x = linear(x, state_dict[f'layer{li}.mlp_fc1'])
        x = [xi.relu() for xi in x]
        x = linear(x, state_dict[f'layer{li}.mlp_fc2'])
        x = [a + b for a, b in zip(x, x_residual)]
    return linear(x, state_dict['lm_head'])

def doc_losses(doc):  # the cross-entropy loss at each position of one document
    tokens = encode(doc)
    n = min(block_size, len(tokens) - 1)
    keys, values = [[] for _ in range(n_layer)], [[] for _ in range(n_layer)]
    losses = []
    for pos_id in range(n):
        token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
        logits = gpt(token_id, pos_id, keys, values)
        probs = softmax(logits)
        losses.append(-probs[target_id].log())
    return losses

# ---- Optimizer: the update rule for the parameters ---------------------------
learning_rate = 0.3   # at the first step; it decays linearly to 0 over num_steps

def update(step):  # one step of SGD on every parameter, then clear the gradients
    lr_t = learning_rate * (1 - step / num_steps)  # num_steps: under Training
    for p in params:
        p.data -= lr_t * p.grad
        p.grad = 0

# ---- Training: one document per step -----------------------------------------
num_steps = 1000
t0 = time.perf_counter()
for step in range(num_steps):
    doc = train_docs[step % len(train_docs)]
    losses = doc_losses(doc)
    loss = (1 / len(losses)) * sum(losses)  # mean over the document's positions
    loss.backward()
    update(step)
    elapsed = time.perf_counter() - t0
    print(f"step {step + 1:4d} / {num_steps} | loss {loss.data:.4f} | {elapsed:.1f}s", end='\r', flush=True)
print()

# ---- Evaluation: the mean loss per token on documents never trained on -------
if val_docs:
    val_losses = [loss_t.data for doc in val_docs for loss_t in doc_losses(doc)]
    val_loss = sum(val_losses) / len(val_losses)
    print(f"held-out loss: {val_loss:.4f} (mean over {len(val_losses)} tokens)")
else:
    print("held-out loss: none (a single document: nothing to hold out)")

# ---- Sampling: new documents, one token at a time ----------------------------
num_samples = 20
temperature = 0.5  # below 1 sharpens the distribution: safer, less varied samples
print(f"--- {num_samples} samples at temperature {temperature} ---")
for sample_idx in range(num_samples):
    keys, values = [[] for _ in range(n_layer)], [[] for _ in range(n_layer)]
    token_id, sample = BOS, []
    for pos_id in range(block_size):
        logits = gpt(token_id, pos_id, keys, values)
        probs = softmax([l / temperature for l in logits])
        token_id = random.choices(range(vocab_size), weights=[p.data for p in probs])[0]
        if token_id == BOS:
            break
        sample.append(uchars[token_id])
    print(f"sample {sample_idx + 1:2d}: {''.join(sample)}")
