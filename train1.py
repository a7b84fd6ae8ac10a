"""
train1.py: an MLP in place of the table, with its gradients derived by hand.

Same as train0.py:
- data, tokenizer, training loop, evaluation, sampling; the model sees one token
Different from train0.py:
- parameters drawn at random: wte, one MLP block (mlp_fc1, ReLU, mlp_fc2) in the
  loop over layers that later stages keep, and lm_head
- gradients(): the chain rule written out by hand, checked once numerically
- update(): stochastic gradient descent, the learning rate decaying to 0

A network learns by nudging its parameters against the gradient of the loss.
Deriving that gradient by hand shows what autograd will automate; the model
uses only +, * and sum, the operators that train2.py's Value will overload.
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
    return [[random.gauss(0, std) for _ in range(nin)] for _ in range(nout)]

state_dict = {}
state_dict['wte'] = matrix(vocab_size, n_embd)  # token embeddings
state_dict['lm_head'] = matrix(vocab_size, n_embd)
for li in range(n_layer):
    state_dict[f'layer{li}.mlp_fc1'] = matrix(4 * n_embd, n_embd)
    state_dict[f'layer{li}.mlp_fc2'] = matrix(n_embd, 4 * n_embd)
params = [p for mat in state_dict.values() for row in mat for p in row]
print(f"num params: {len(params)}")

# ---- Model: the next-token logits, one position at a time --------------------
def dot(a, b):
    return sum(map(operator.mul, a, b))

def linear(x, w):  # w has one row per output: (nout, nin) @ (nin,) -> (nout,)
    return [dot(w_row, x) for w_row in w]

def softmax(logits):
    max_val = max(logits)  # the shift cancels out, and keeps exp() finite
    exps = [math.exp(l - max_val) for l in logits]
    scale = sum(exps) ** -1  # one division, shared by every entry
    return [e * scale for e in exps]

def mlp(token_id):
    x = state_dict['wte'][token_id]
    for li in range(n_layer):
        x = linear(x, state_dict[f'layer{li}.mlp_fc1'])
        x = [max(0, xi) for xi in x]
        x = linear(x, state_dict[f'layer{li}.mlp_fc2'])
    return linear(x, state_dict['lm_head'])

def doc_losses(doc):  # the cross-entropy loss at each position of one document
    tokens = encode(doc)
    n = min(block_size, len(tokens) - 1)
    losses = []
    for pos_id in range(n):
        token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
        logits = mlp(token_id)
        probs = softmax(logits)
        losses.append(-math.log(probs[target_id]))
    return losses

# ---- Gradients: the chain rule, worked out by hand ---------------------------
def linear_backward(dy, x, w, dw):  # y = linear(x, w): add dy x^T into dw, return dx = w^T dy
    dx = [0.0] * len(x)
    for w_row, dw_row, dyi in zip(w, dw, dy):  # output i: y[i] = dot(w[i], x)
        for j, xj in enumerate(x):
            dw_row[j] += dyi * xj
            dx[j] += dyi * w_row[j]
    return dx

def gradients(doc):  # d(mean loss of doc)/d(each parameter), shaped like state_dict
    grads = {name: [[0.0] * len(row) for row in mat] for name, mat in state_dict.items()}
    tokens = encode(doc)
    n = min(block_size, len(tokens) - 1)
    for pos_id in range(n):
        token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
        # forward, as in mlp(), keeping what the backward pass needs
        x, inputs, hiddens = state_dict['wte'][token_id], [], []
        for li in range(n_layer):
            inputs.append(x)
            hiddens.append([max(0, hi) for hi in linear(x, state_dict[f'layer{li}.mlp_fc1'])])
            x = linear(hiddens[li], state_dict[f'layer{li}.mlp_fc2'])
        probs = softmax(linear(x, state_dict['lm_head']))
        # backward: the loss here is -log(probs[target_id]) / n, whose gradient
        # with respect to the logits is (probs - one_hot(target_id)) / n
        dlogits = [(p - (1 if i == target_id else 0)) / n for i, p in enumerate(probs)]
        dx = linear_backward(dlogits, x, state_dict['lm_head'], grads['lm_head'])
        for li in reversed(range(n_layer)):
            w1, w2 = f'layer{li}.mlp_fc1', f'layer{li}.mlp_fc2'
            dh = linear_backward(dx, hiddens[li], state_dict[w2], grads[w2])
            dh = [d if hi > 0 else 0.0 for d, hi in zip(dh, hiddens[li])]  # ReLU passes it where it was on
            dx = linear_backward(dh, inputs[li], state_dict[w1], grads[w1])
        grads['wte'][token_id] = [g + d for g, d in zip(grads['wte'][token_id], dx)]
    return grads

def numerical_gradient(doc, row, j, eps=1e-6):  # central difference of the mean loss in row[j]
    w = row[j]
    row[j] = w + eps
    loss_plus = doc_losses(doc)
    row[j] = w - eps
    loss_minus = doc_losses(doc)
    row[j] = w
    return (sum(loss_plus) - sum(loss_minus)) / len(loss_plus) / (2 * eps)

check_doc = train_docs[0]
analytic = gradients(check_doc)
max_diff = max(abs(numerical_gradient(check_doc, row, j) - analytic[name][i][j])
               for name, mat in state_dict.items() for i, row in enumerate(mat) for j in range(len(row)))
print(f"gradient check on {check_doc!r}: max |numerical - analytic| = {max_diff:.1e} over {len(params)} parameters")

# ---- Optimizer: the update rule for the parameters ---------------------------
learning_rate = 1.0   # at the first step; it decays linearly to 0 over num_steps

def update(step, grads):  # one step of SGD on every parameter, against its gradient
    lr_t = learning_rate * (1 - step / num_steps)  # num_steps: under Training
    for name, mat in state_dict.items():
        for row, grad_row in zip(mat, grads[name]):
            for j, g in enumerate(grad_row):
                row[j] -= lr_t * g

# ---- Training: one document per step -----------------------------------------
num_steps = 1000
t0 = time.perf_counter()
for step in range(num_steps):
    doc = train_docs[step % len(train_docs)]
    losses = doc_losses(doc)
    loss = (1 / len(losses)) * sum(losses)  # mean over the document's positions
    update(step, gradients(doc))
    elapsed = time.perf_counter() - t0
    print(f"step {step + 1:4d} / {num_steps} | loss {loss:.4f} | {elapsed:.1f}s", end='\r', flush=True)
print()

# ---- Evaluation: the mean loss per token on documents never trained on -------
if val_docs:
    val_losses = [loss_t for doc in val_docs for loss_t in doc_losses(doc)]
    val_loss = sum(val_losses) / len(val_losses)
    print(f"held-out loss: {val_loss:.4f} (mean over {len(val_losses)} tokens)")
else:
    print("held-out loss: none (a single document: nothing to hold out)")

# ---- Sampling: new documents, one token at a time ----------------------------
num_samples = 20
temperature = 0.5  # below 1 sharpens the distribution: safer, less varied samples
print(f"--- {num_samples} samples at temperature {temperature} ---")
for sample_idx in range(num_samples):
    token_id, sample = BOS, []
    for pos_id in range(block_size):
        logits = mlp(token_id)
        probs = softmax([l / temperature for l in logits])
        token_id = random.choices(range(vocab_size), weights=probs)[0]
        if token_id == BOS:
            break
        sample.append(uchars[token_id])
    print(f"sample {sample_idx + 1:2d}: {''.join(sample)}")
