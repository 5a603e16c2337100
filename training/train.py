#!/usr/bin/env python3
"""Train Parley's embedded NPC model: a small llama-architecture transformer.

Reads the corpus written by ``training/corpus.ts`` (``tokens.bin``, ``mask.bin``, ``index.json``,
``vocab.json`` in ``training/out``), trains with AdamW and a cosine schedule, and writes:

* ``weights.bin``  -- every tensor as raw little-endian float32, back to back;
* ``weights.json`` -- hyperparameters and, per tensor, its GGUF name, shape and byte offset;
* ``train-report.json`` -- arguments, parameter count, tokens, minutes, loss curve, eval losses;
* ``reference.json`` -- greedy continuations of a few held-out prompts (weights rounded to F16, as
  exported), which ``training/evaluate.ts`` compares with llama.cpp running the GGUF.

The architecture is exactly what llama.cpp runs for ``general.architecture = llama``: token
embedding; per block RMSNorm, attention with RoPE over ADJACENT pairs (x[2i], x[2i+1]) -- llama.cpp's
"NORM" RoPE, not GPT-NeoX rotate-half --, RMSNorm, SwiGLU feed-forward; final RMSNorm; untied output
projection; no biases.

Training is on examples grouped by a shared prefix (the system turn with the world state, then the
user marker). One step computes the prefix once and every continuation of the group (player line,
assistant marker, reply) attends to the prefix's keys and values, exactly as if each example were
run alone but without recomputing the ~1000-token prefix per example. Loss is on reply tokens only
(mask.bin), so the prefix needs no output logits.

Determinism: torch and numpy are seeded, the group order is a seeded permutation, and the schedule
is a function of ``--steps`` only. ``--minutes`` is a hard time cap: if it stops training early the
report says so (``stopped_early``), and the run is then not reproducible step for step.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from typing import Any

# OpenMP's default busy-waiting makes two threads several times SLOWER than one when the cores are
# shared with other work; passive waiting keeps two threads at least as fast as one.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402  (after the OpenMP setting, which is read when torch loads)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import Tensor, nn  # noqa: E402

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
KV = tuple[Tensor, Tensor]


@dataclass(frozen=True)
class Hparams:
    """Model shape; written to weights.json and, through export.ts, to the GGUF."""

    vocab_size: int
    context_length: int
    embedding_length: int
    block_count: int
    head_count: int
    feed_forward_length: int
    rope_freq_base: float = 10000.0
    rms_norm_eps: float = 1e-5

    @property
    def head_dim(self) -> int:
        """Dimensions per attention head."""
        return self.embedding_length // self.head_count


class RMSNorm(nn.Module):
    """llama.cpp's RMS norm: x / sqrt(mean(x^2) + eps) * weight."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(hp: Hparams, start: int, length: int) -> tuple[Tensor, Tensor]:
    """cos and sin of shape (length, head_dim / 2) for positions start .. start + length - 1."""
    half = hp.head_dim // 2
    inv_freq = hp.rope_freq_base ** (-torch.arange(0, half, dtype=torch.float64) * 2.0 / hp.head_dim)
    pos = torch.arange(start, start + length, dtype=torch.float64)
    angles = torch.outer(pos, inv_freq)
    return angles.cos().float(), angles.sin().float()


def apply_rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotates each adjacent pair (x[2i], x[2i+1]) of the last dimension, as llama.cpp's NORM RoPE."""
    x0 = x[..., 0::2]
    x1 = x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)


class Attention(nn.Module):
    """Multi-head causal self-attention, optionally continuing from a shared prefix's keys/values."""

    def __init__(self, hp: Hparams) -> None:
        super().__init__()
        d = hp.embedding_length
        self.hp = hp
        self.wq = nn.Linear(d, d, bias=False)
        self.wk = nn.Linear(d, d, bias=False)
        self.wv = nn.Linear(d, d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, past: KV | None) -> tuple[Tensor, KV]:
        """x: (B, T, d). past: prefix (k, v) of shape (1, H, P, hd), shared by every row of x."""
        b, t, d = x.shape
        h, hd = self.hp.head_count, self.hp.head_dim
        q = apply_rope(self.wq(x).view(b, t, h, hd).transpose(1, 2), cos, sin)
        k = apply_rope(self.wk(x).view(b, t, h, hd).transpose(1, 2), cos, sin)
        v = self.wv(x).view(b, t, h, hd).transpose(1, 2)
        own: KV = (k, v)
        causal = torch.full((t, t), float("-inf")).triu(1)
        if past is not None:
            pk, pv = past
            p = pk.shape[2]
            k = torch.cat((pk.expand(b, -1, -1, -1), k), dim=2)
            v = torch.cat((pv.expand(b, -1, -1, -1), v), dim=2)
            causal = torch.cat((torch.zeros(t, p), causal), dim=1)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd)) + causal
        out = F.softmax(scores, dim=-1) @ v
        return self.wo(out.transpose(1, 2).reshape(b, t, d)), own


class FeedForward(nn.Module):
    """SwiGLU: down(silu(gate(x)) * up(x))."""

    def __init__(self, hp: Hparams) -> None:
        super().__init__()
        self.gate = nn.Linear(hp.embedding_length, hp.feed_forward_length, bias=False)
        self.up = nn.Linear(hp.embedding_length, hp.feed_forward_length, bias=False)
        self.down = nn.Linear(hp.feed_forward_length, hp.embedding_length, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.down(F.silu(self.gate(x)) * self.up(x))


class Block(nn.Module):
    """Pre-norm transformer block."""

    def __init__(self, hp: Hparams) -> None:
        super().__init__()
        self.attn_norm = RMSNorm(hp.embedding_length, hp.rms_norm_eps)
        self.attn = Attention(hp)
        self.ffn_norm = RMSNorm(hp.embedding_length, hp.rms_norm_eps)
        self.ffn = FeedForward(hp)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, past: KV | None) -> tuple[Tensor, KV]:
        a, kv = self.attn(self.attn_norm(x), cos, sin, past)
        x = x + a
        return x + self.ffn(self.ffn_norm(x)), kv


class Llama(nn.Module):
    """The whole model. ``forward`` returns final hidden states; ``logits`` projects them."""

    def __init__(self, hp: Hparams) -> None:
        super().__init__()
        self.hp = hp
        self.tok_embeddings = nn.Embedding(hp.vocab_size, hp.embedding_length)
        self.blocks = nn.ModuleList(Block(hp) for _ in range(hp.block_count))
        self.norm = RMSNorm(hp.embedding_length, hp.rms_norm_eps)
        self.output = nn.Linear(hp.embedding_length, hp.vocab_size, bias=False)
        self._init_weights()

    def _init_weights(self) -> None:
        """GPT-2 style: N(0, 0.02), residual projections scaled down by sqrt(2 * blocks)."""
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * self.hp.block_count) if name.endswith(("wo.weight", "down.weight")) else 0.02
                nn.init.normal_(p, mean=0.0, std=std)

    def forward(self, tokens: Tensor, start: int = 0, past: list[KV] | None = None) -> tuple[Tensor, list[KV]]:
        """tokens: (B, T) at positions start.. ; past: per block, a prefix's (k, v) of batch 1."""
        cos, sin = rope_tables(self.hp, start, tokens.shape[1])
        x = self.tok_embeddings(tokens)
        kvs: list[KV] = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, cos, sin, None if past is None else past[i])
            kvs.append(kv)
        return self.norm(x), kvs

    def logits(self, hidden: Tensor) -> Tensor:
        """Output projection of final hidden states."""
        return self.output(hidden)

    def gguf_tensors(self) -> list[tuple[str, Tensor]]:
        """Every parameter under its GGUF tensor name, in GGUF file order."""
        named: list[tuple[str, Tensor]] = [("token_embd.weight", self.tok_embeddings.weight)]
        for i, blk in enumerate(self.blocks):
            assert isinstance(blk, Block)
            named += [
                (f"blk.{i}.attn_norm.weight", blk.attn_norm.weight),
                (f"blk.{i}.attn_q.weight", blk.attn.wq.weight),
                (f"blk.{i}.attn_k.weight", blk.attn.wk.weight),
                (f"blk.{i}.attn_v.weight", blk.attn.wv.weight),
                (f"blk.{i}.attn_output.weight", blk.attn.wo.weight),
                (f"blk.{i}.ffn_norm.weight", blk.ffn_norm.weight),
                (f"blk.{i}.ffn_gate.weight", blk.ffn.gate.weight),
                (f"blk.{i}.ffn_up.weight", blk.ffn.up.weight),
                (f"blk.{i}.ffn_down.weight", blk.ffn.down.weight),
            ]
        named += [("output_norm.weight", self.norm.weight), ("output.weight", self.output.weight)]
        return named


# ------------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class Group:
    """Examples sharing a prefix: tokens[prefix_start : prefix_start + prefix_len] is common to all."""

    prefix_start: int
    prefix_len: int
    examples: tuple[tuple[int, int], ...]  # (start, length) of each whole example in tokens.bin


class Corpus:
    """tokens.bin / mask.bin / index.json, as written by corpus.ts."""

    def __init__(self, out_dir: str) -> None:
        with open(os.path.join(out_dir, "index.json"), encoding="utf-8") as f:
            self.index: dict[str, Any] = json.load(f)
        with open(os.path.join(out_dir, "vocab.json"), encoding="utf-8") as f:
            self.vocab: dict[str, Any] = json.load(f)
        self.tokens = np.fromfile(os.path.join(out_dir, "tokens.bin"), dtype="<u2").astype(np.int64)
        self.mask = np.fromfile(os.path.join(out_dir, "mask.bin"), dtype=np.uint8)
        assert self.tokens.shape == self.mask.shape, "tokens.bin and mask.bin differ in length"
        self.groups: dict[str, list[Group]] = {"train": [], "val": []}
        for g in self.index["groups"]:
            exs = tuple((int(e["start"]), int(e["length"])) for e in g["examples"])
            group = Group(int(exs[0][0]), int(g["prefix_length"]), exs)
            self._check_prefix(group)
            self.groups[g["split"]].append(group)

    def _check_prefix(self, g: Group) -> None:
        """Every example of a group must really start with the group's prefix (and be masked there)."""
        ref = self.tokens[g.prefix_start : g.prefix_start + g.prefix_len]
        for start, length in g.examples:
            assert length > g.prefix_len
            assert np.array_equal(self.tokens[start : start + g.prefix_len], ref), "prefix differs in a group"
            assert not self.mask[start : start + g.prefix_len].any(), "loss mask set inside a shared prefix"

    def batch(self, g: Group) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(prefix (1, P), inputs (K, S), targets (K, S), weights (K, S)) for one group."""
        p = g.prefix_len
        prefix = torch.from_numpy(self.tokens[g.prefix_start : g.prefix_start + p].copy()).unsqueeze(0)
        # The prefix is computed once with a cache; each continuation feeds tokens from position p on.
        # The prediction made at position p - 1 (the continuation's first token) is of a prompt token,
        # which has no loss, so the prefix needs no logits.
        rest = [(s + p, n - p) for s, n in g.examples]
        width = max(n for _, n in rest) - 1
        inputs = torch.zeros((len(rest), width), dtype=torch.int64)
        targets = torch.zeros((len(rest), width), dtype=torch.int64)
        weights = torch.zeros((len(rest), width), dtype=torch.float32)
        for i, (s, n) in enumerate(rest):
            inputs[i, : n - 1] = torch.from_numpy(self.tokens[s : s + n - 1])
            targets[i, : n - 1] = torch.from_numpy(self.tokens[s + 1 : s + n])
            weights[i, : n - 1] = torch.from_numpy(self.mask[s + 1 : s + n].astype(np.float32))
        return prefix, inputs, targets, weights


def group_loss(model: Llama, corpus: Corpus, g: Group) -> tuple[Tensor, float, int]:
    """Summed masked cross-entropy over a group's reply tokens, its weight, and tokens computed."""
    prefix, inputs, targets, weights = corpus.batch(g)
    _, past = model(prefix, 0)
    hidden, _ = model(inputs, prefix.shape[1], past)
    keep = weights.view(-1) > 0
    logits = model.logits(hidden.view(-1, hidden.shape[-1])[keep])
    loss = F.cross_entropy(logits, targets.view(-1)[keep], reduction="none")
    w = weights.view(-1)[keep]
    return (loss * w).sum(), float(w.sum()), int(prefix.numel() + inputs.numel())


@torch.no_grad()
def evaluate(model: Llama, corpus: Corpus, groups: list[Group]) -> float:
    """Mean reply-token cross-entropy (nats) over the given groups."""
    model.eval()
    total, weight = 0.0, 0.0
    for g in groups:
        s, w, _ = group_loss(model, corpus, g)
        total += float(s)
        weight += w
    model.train()
    return total / max(weight, 1.0)


def lr_at(step: int, steps: int, peak: float, warmup: int, floor: float) -> float:
    """Linear warmup, then cosine from peak down to floor * peak at the last step."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


# ------------------------------------------------------------------------------------------------
# Export


def export_weights(model: Llama, out_dir: str, extra: dict[str, Any]) -> None:
    """weights.bin (little-endian float32, GGUF order) and weights.json describing it."""
    entries: list[dict[str, Any]] = []
    offset = 0
    with open(os.path.join(out_dir, "weights.bin"), "wb") as f:
        for name, t in model.gguf_tensors():
            data = t.detach().to(torch.float32).contiguous().numpy().astype("<f4")
            f.write(data.tobytes())
            # shape is PyTorch's (row-major, outermost first): a Linear weight is (out, in).
            entries.append({"name": name, "shape": list(data.shape), "offset": offset, "bytes": data.nbytes})
            offset += data.nbytes
    meta = {"format": 1, "dtype": "float32-le", "hparams": asdict(model.hp), "tensors": entries, **extra}
    with open(os.path.join(out_dir, "weights.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)


@torch.no_grad()
def greedy(model: Llama, prompt: list[int], max_new: int, stop: int) -> list[int]:
    """Greedy continuation, full recompute per token (slow but obviously right)."""
    model.eval()
    seq = list(prompt)
    out: list[int] = []
    for _ in range(max_new):
        hidden, _ = model(torch.tensor([seq]), 0)
        nxt = int(model.logits(hidden[0, -1]).argmax())
        out.append(nxt)
        if nxt == stop:
            break
        seq.append(nxt)
    return out


@torch.no_grad()
def write_reference(model: Llama, out_dir: str, corpus: Corpus, count: int, max_new: int) -> None:
    """Greedy continuations and first-step probabilities of held-out prompts, with F16-rounded weights."""
    with open(os.path.join(out_dir, "heldout.json"), encoding="utf-8") as f:
        heldout = json.load(f)
    rounded = Llama(model.hp)
    rounded.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
    stop = int(corpus.vocab["special"]["<|end|>"])
    cases = []
    for case in heldout["prompts"][:count]:
        ids = [int(t) for t in case["prompt_tokens"]]
        hidden, _ = rounded(torch.tensor([ids]), 0)
        probs = F.softmax(rounded.logits(hidden[0, -1]), dim=-1)
        top = torch.topk(probs, 5)
        cases.append(
            {
                "id": case["id"],
                "prompt_tokens": ids,
                "greedy_tokens": greedy(rounded, ids, max_new, stop),
                "first_probs_top5": [[int(i), float(v)] for v, i in zip(top.values, top.indices)],
            }
        )
    with open(os.path.join(out_dir, "reference.json"), "w", encoding="utf-8") as f:
        json.dump({"weights": "f16-rounded", "cases": cases}, f, indent=1)


# ------------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    """Command line; defaults are the shipped model's settings."""
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--out", default=OUT_DIR, help="corpus in, weights and reports out")
    a.add_argument("--seed", type=int, default=1234)
    a.add_argument("--threads", type=int, default=2)
    a.add_argument("--dim", type=int, default=256)
    a.add_argument("--layers", type=int, default=4)
    a.add_argument("--heads", type=int, default=4)
    a.add_argument("--ffn", type=int, default=688)
    a.add_argument("--context", type=int, default=2048, help="context length written to the GGUF")
    a.add_argument("--steps", type=int, default=2600, help="optimizer steps; fixes the schedule")
    a.add_argument("--groups-per-step", type=int, default=1, help="gradient accumulation")
    a.add_argument("--lr", type=float, default=2e-3)
    a.add_argument("--warmup", type=int, default=60)
    a.add_argument("--lr-floor", type=float, default=0.05, help="final lr as a fraction of --lr")
    a.add_argument("--weight-decay", type=float, default=0.1)
    a.add_argument("--minutes", type=float, default=90.0, help="hard cap on training wall time")
    a.add_argument("--eval-every", type=int, default=100)
    a.add_argument("--val-groups", type=int, default=12, help="validation groups used per evaluation")
    a.add_argument("--log-every", type=int, default=10)
    a.add_argument("--reference-cases", type=int, default=3)
    a.add_argument("--bench", type=int, default=0, help="only time this many steps and exit")
    return a.parse_args()


def main() -> None:
    """Train, evaluate, export."""
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.RandomState(args.seed)
    corpus = Corpus(args.out)
    hp = Hparams(
        vocab_size=int(corpus.vocab["size"]),
        context_length=args.context,
        embedding_length=args.dim,
        block_count=args.layers,
        head_count=args.heads,
        feed_forward_length=args.ffn,
    )
    longest = max(e["length"] for g in corpus.index["groups"] for e in g["examples"])
    assert longest <= hp.context_length, f"an example has {longest} tokens > context {hp.context_length}"
    model = Llama(hp)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.95),
        eps=1e-8,
    )
    train, val = corpus.groups["train"], corpus.groups["val"][: args.val_groups]
    print(f"params {n_params:,}  train groups {len(train)}  val groups {len(val)}  longest example {longest}")

    order: list[int] = []
    epoch = 0
    t0 = time.time()
    curve: list[dict[str, float]] = []
    evals: list[dict[str, float]] = []
    tokens_computed = 0
    tokens_supervised = 0.0
    stopped_early = False
    step = 0
    total_steps = args.bench or args.steps
    for step in range(total_steps):
        if time.time() - t0 > args.minutes * 60:
            stopped_early = True
            break
        lr = lr_at(step, args.steps, args.lr, args.warmup, args.lr_floor)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss_sum, weight = torch.zeros(()), 0.0
        sums: list[Tensor] = []
        for _ in range(args.groups_per_step):
            if not order:
                order = list(rng.permutation(len(train)))
                epoch += 1
            s, w, n = group_loss(model, corpus, train[order.pop()])
            sums.append(s)
            weight += w
            tokens_computed += n
        loss_sum = torch.stack(sums).sum() / weight
        loss_sum.backward()
        grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0))
        opt.step()
        tokens_supervised += weight
        if step % args.log_every == 0 or step == total_steps - 1:
            elapsed = time.time() - t0
            curve.append(
                {
                    "step": step,
                    "loss": round(float(loss_sum), 4),
                    "lr": lr,
                    "grad_norm": round(grad_norm, 3),
                    "minutes": round(elapsed / 60, 3),
                    "tokens_computed": tokens_computed,
                }
            )
            print(
                f"step {step:5d} ep {epoch} loss {float(loss_sum):.4f} lr {lr:.2e} gn {grad_norm:.2f} "
                f"{elapsed / 60:.1f} min {tokens_computed / max(elapsed, 1e-9):.0f} tok/s",
                flush=True,
            )
        if not args.bench and args.eval_every and step > 0 and step % args.eval_every == 0:
            v = evaluate(model, corpus, val)
            evals.append({"step": step, "val_loss": round(v, 4), "minutes": round((time.time() - t0) / 60, 3)})
            print(f"  val loss {v:.4f}", flush=True)
    minutes = (time.time() - t0) / 60
    if args.bench:
        print(f"bench: {args.bench} steps in {minutes * 60:.1f} s; {tokens_computed / (minutes * 60):.0f} tok/s")
        return
    final_val = evaluate(model, corpus, corpus.groups["val"])
    evals.append({"step": step, "val_loss": round(final_val, 4), "minutes": round(minutes, 3), "final": 1})
    print(f"final val loss {final_val:.4f} over {len(corpus.groups['val'])} groups; {minutes:.1f} min")
    report = {
        "args": vars(args),
        "hparams": asdict(hp),
        "parameters": n_params,
        "corpus_sha256": corpus.index["sha256"],
        "steps_done": step + 1 if not stopped_early else step,
        "stopped_early": stopped_early,
        "epochs_started": epoch,
        "minutes": round(minutes, 2),
        "tokens_computed": tokens_computed,
        "tokens_supervised": int(tokens_supervised),
        "torch": torch.__version__,
        "loss_curve": curve,
        "evals": evals,
    }
    with open(os.path.join(args.out, "train-report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    export_weights(
        model,
        args.out,
        {"seed": args.seed, "corpus_sha256": corpus.index["sha256"], "parameters": n_params},
    )
    write_reference(model, args.out, corpus, args.reference_cases, 40)
    print("wrote weights.bin, weights.json, train-report.json, reference.json")


if __name__ == "__main__":
    main()
