"""
train0.py: a bigram model: count which character follows which. No network, no gradients.

Same as microgpt.py:
- data, held-out split, tokenizer, training loop, progress line, evaluation, sampling
Different from microgpt.py:
- the model is a table: counts[a][b] is how often token b followed token a, plus 1
- a training step adds one document's pairs to the table (after scoring it)

The simplest model that can be scored like every later stage: its held-out
loss is the baseline that a network must beat to have learned anything more
than which letter tends to follow which.
"""

import math      # math.log, math.exp
import os        # os.path.join, os.path.dirname, os.path.abspath
import random    # random.seed, random.shuffle, random.choices
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
block_size = 16              # longest context, in tokens (the longest name has 15 characters)

too_long = sum(len(doc) >= block_size for doc in docs)  # a document needs len(doc) + 1 positions
if too_long:
    print(f"warning: {too_long} of {len(docs)} documents are longer than block_size - 1 = "
          f"{block_size - 1} characters: the model learns only their first {block_size} characters "
          f"and never their end (raise block_size to keep them whole)", file=sys.stderr)

counts = [[1] * vocab_size for _ in range(vocab_size)]  # counts[a][b]: how often b followed a, plus 1

# ---- Model: the next-token logits, one position at a time --------------------
def softmax(logits):
    max_val = max(logits)  # the shift cancels out, and keeps exp() finite
    exps = [math.exp(l - max_val) for l in logits]
    scale = sum(exps) ** -1  # one division, shared by every entry
    return [e * scale for e in exps]

def bigram(token_id):  # log-counts as logits: their softmax is the row of counts, normalized
    return [math.log(c) for c in counts[token_id]]

def doc_losses(doc):  # the cross-entropy loss at each position of one document
    tokens = encode(doc)
    n = min(block_size, len(tokens) - 1)
    losses = []
    for pos_id in range(n):
        token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
        logits = bigram(token_id)
        probs = softmax(logits)
        losses.append(-math.log(probs[target_id]))
    return losses

# ---- Training: one document per step -----------------------------------------
num_steps = 1000
t0 = time.perf_counter()
for step in range(num_steps):
    doc = train_docs[step % len(train_docs)]
    losses = doc_losses(doc)
    loss = (1 / len(losses)) * sum(losses)  # mean over the document's positions
    tokens = encode(doc)[:block_size + 1]  # the same positions that doc_losses scored
    for token_id, target_id in zip(tokens, tokens[1:]):
        counts[token_id][target_id] += 1
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
        logits = bigram(token_id)
        probs = softmax([l / temperature for l in logits])
        token_id = random.choices(range(vocab_size), weights=probs)[0]
        if token_id == BOS:
            break
        sample.append(uchars[token_id])
    print(f"sample {sample_idx + 1:2d}: {''.join(sample)}")
