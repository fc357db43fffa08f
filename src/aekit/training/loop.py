"""One training function whose every step is visible.

Data sits in memory as a tensor (each epoch draws one permutation and slices it into
mini-batches, so there is no per-row Python and no DataLoader overhead) or streams from
Parquet files larger than memory (:mod:`aekit.training.batches`). Randomness uses
torch's global generator: callers (the estimators) fork and seed it, which makes runs
bit-identical on CPU without changing the caller's random state.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable

import torch
from torch import Tensor, nn

from aekit import _threads
from aekit._progress import progress
from aekit.training import distributed
from aekit.training.batches import BatchSource, TensorBatches
from aekit.training.checkpoint import Checkpoint, TrainState
from aekit.training.config import TrainConfig
from aekit.training.history import History

logger = logging.getLogger(__name__)

LossFn = Callable[..., Tensor]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA when present, else CPU."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _make_optimizer(module: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    # fused: one kernel for the whole update, as per-op dispatch dominates small models;
    # foreach where a build or device has no fused kernel.
    try:
        return cls(module.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return cls(module.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True)


def _make_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig):
    if cfg.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(cfg.max_epochs, 1))
    if cfg.lr_schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=0.5, patience=max(cfg.patience // 3, 1), threshold=cfg.min_delta
        )
    return None


@torch.inference_mode()
def evaluate(module: nn.Module, loss_fn: LossFn, X: Tensor, batch_size: int = 8192,
             target: Tensor | None = None) -> float:
    """Mean loss over ``X`` in eval mode (no dropout, VAE at its mean).

    ``target`` defaults to ``X``; a denoising model is evaluated on corrupted ``X`` against
    the clean ``target``, the objective it is trained for.
    """
    target = X if target is None else target
    was_training = module.training
    module.eval()
    total, n = 0.0, X.shape[0]
    for start in range(0, n, batch_size):
        xb, tb = X[start:start + batch_size], target[start:start + batch_size]
        total += float(loss_fn(module, module(xb), tb, None)) * xb.shape[0]
    module.train(was_training)
    return total / max(n, 1)


@torch.inference_mode()
def per_sample_losses(module: nn.Module, loss_fn: LossFn, X: Tensor,
                      batch_size: int = 8192, target: Tensor | None = None) -> Tensor:
    """Loss of every row of ``X`` in eval mode, shape (n,)."""
    target = X if target is None else target
    was_training = module.training
    module.eval()
    out = torch.cat([loss_fn.per_sample(module, module(X[i:i + batch_size]), target[i:i + batch_size])
                     for i in range(0, X.shape[0], batch_size)])
    module.train(was_training)
    return out


def significantly_better(candidate: Tensor, reference: Tensor, margin: float) -> bool:
    """Paired test on the same validation rows: is ``candidate`` lower by more than noise?

    Requires the mean per-row improvement to exceed both ``margin`` (relative) and two
    standard errors of the paired differences.
    """
    diff = (reference - candidate).double()
    n = diff.numel()
    if n < 2:
        return bool(diff.mean() > margin * reference.double().mean().abs())
    se = diff.std() / n ** 0.5
    return bool(diff.mean() > max(2 * se, margin * reference.double().mean().abs()))


def train(
    module: nn.Module,
    loss_fn: LossFn,
    X_train: Tensor | BatchSource,
    X_val: Tensor | None,
    cfg: TrainConfig,
    *,
    corrupt: Callable[[Tensor], Tensor] | None = None,
    on_epoch_end: Callable[[int, History, nn.Module], None] | None = None,
    checkpoint: Checkpoint | None = None,
) -> History:
    """Train ``module`` to reconstruct ``X_train``; return the per-epoch history.

    ``X_train`` is a tensor, or a :class:`~aekit.training.batches.BatchSource` such as
    :class:`~aekit.training.batches.StreamBatches` for data larger than memory.

    Early stopping watches the validation loss (the training loss when ``X_val`` is None)
    and the best weights are restored at the end. ``corrupt`` (denoising) is applied to the
    input of each training batch only; the clean batch is always the target.
    ``checkpoint`` saves the full training state every ``checkpoint.every`` epochs and, with
    ``checkpoint.resume``, continues from a saved state (bit-identical on CPU).
    """
    data = TensorBatches(X_train) if isinstance(X_train, Tensor) else X_train
    batch_size = max(1, min(cfg.batch_size, data.n_rows))
    with _threads.torch_threads(_threads.step_threads(module, batch_size, data.device,
                                                      training=True)):
        return _train(module, loss_fn, data, X_val, cfg, corrupt=corrupt,
                      on_epoch_end=on_epoch_end, checkpoint=checkpoint)


def _dense(t: Tensor) -> bool:
    """Does ``t`` cover one block of memory in a layout PyTorch creates (C or channels-last)?"""
    return t.is_contiguous() or (t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last))


class Gradients:
    """Zeroing and norm clipping of a module's gradients, cheap enough to do every step.

    With ``flat=True`` every parameter's ``.grad`` is a view into one flat buffer, which
    backward accumulates into in place: zeroing is one fill and clipping one norm and one
    multiply, where ``clip_grad_norm_`` runs a norm and a multiply per parameter (a
    noticeable share of a small model's step). Same result as ``clip_grad_norm_``: the
    gradient is scaled by ``min(1, max_norm / (norm + 1e-6))``. DDP manages its own
    gradient buckets, so with ``flat=False`` the usual calls are made.
    """

    def __init__(self, module: nn.Module, optimizer: torch.optim.Optimizer, flat: bool) -> None:
        self.params = [p for p in module.parameters() if p.requires_grad]
        self.optimizer = optimizer
        self.buffer: Tensor | None = None
        if (flat and self.params and len({(p.device, p.dtype) for p in self.params}) == 1
                and all(_dense(p) for p in self.params)):
            first = self.params[0]
            self.buffer = torch.zeros(sum(p.numel() for p in self.params), device=first.device,
                                      dtype=first.dtype)
            offset = 0
            for p in self.params:
                # the parameter's own strides (e.g. channels_last convolution weights): fused
                # optimizers walk a parameter and its gradient as one block of memory
                p.grad = self.buffer.as_strided(p.shape, p.stride(), offset)
                offset += p.numel()

    def zero(self) -> None:
        if self.buffer is None:
            self.optimizer.zero_grad(set_to_none=True)
        else:
            self.buffer.zero_()

    def clip(self, max_norm: float) -> None:
        if self.buffer is None:
            nn.utils.clip_grad_norm_(self.params, max_norm, foreach=True)
            return
        norm = torch.linalg.vector_norm(self.buffer)
        self.buffer.mul_(torch.clamp(max_norm / (norm + 1e-6), max=1.0))

    def release(self) -> None:
        """Detach the gradients from the buffer (a fitted module carries no gradients)."""
        for p in self.params:
            p.grad = None


def _fingerprint(module: nn.Module, data: BatchSource, X_val: Tensor | None,
                 cfg: TrainConfig) -> dict:
    """What a checkpoint must share with the run resuming from it."""
    options = {k: v for k, v in vars(cfg).items() if k not in ("verbose", "desc")}
    return {"shapes": {k: list(v.shape) for k, v in module.state_dict().items()},
            **data.fingerprint(), "n_val": 0 if X_val is None else X_val.shape[0],
            "config": options}


def _train(
    module: nn.Module,
    loss_fn: LossFn,
    data: BatchSource,
    X_val: Tensor | None,
    cfg: TrainConfig,
    *,
    corrupt: Callable[[Tensor], Tensor] | None = None,
    on_epoch_end: Callable[[int, History, nn.Module], None] | None = None,
    checkpoint: Checkpoint | None = None,
) -> History:
    history = History()
    optimizer = _make_optimizer(module, cfg)
    scheduler = _make_scheduler(optimizer, cfg)
    n, device = data.n_rows, data.device
    batch_size = max(1, min(cfg.batch_size, n))
    best, best_state, bad_epochs, initial_rows = math.inf, None, 0, None
    started = time.perf_counter()
    if X_val is not None:
        # The starting point competes too: a network initialised at a good solution (PCA)
        # is never replaced by worse trained weights.
        # Denoising: validate on one fixed corrupted copy against the clean rows.
        X_val_in = corrupt(X_val) if corrupt is not None else X_val
        best = history.initial_loss = evaluate(module, loss_fn, X_val_in, target=X_val)
        best_state = copy.deepcopy(module.state_dict())
        initial_rows = (per_sample_losses(module, loss_fn, X_val_in, target=X_val)
                        if hasattr(loss_fn, "per_sample") else None)
    start_epoch = 0
    if checkpoint is not None:
        fingerprint = _fingerprint(module, data, X_val, cfg)
        if checkpoint.resume and checkpoint.exists():
            state = checkpoint.load(module, fingerprint)
            optimizer.load_state_dict(state.optimizer)
            if scheduler is not None:
                scheduler.load_state_dict(state.scheduler)
            history, best, bad_epochs = state.history, state.best, state.bad_epochs
            best_state, initial_rows = state.best_state, state.initial_rows
            torch.set_rng_state(state.rng)
            if state.cuda_rng is not None and device.type == "cuda":
                torch.cuda.set_rng_state(state.cuda_rng, device)
            start_epoch = state.epoch + 1
            logger.info("resumed from %s after epoch %d", checkpoint.path, state.epoch)
    # Under torchrun: DDP averages gradients; each rank trains on its share of every batch.
    net, world = distributed.wrap(module, device), distributed.world_size()
    gradients = Gradients(module, optimizer, flat=world == 1)
    sharded = world > 1 and getattr(data, "sharded", False)  # batches are already per rank
    row_bars = (cfg.verbose > 0 and distributed.is_main_process()
                and not isinstance(data, TensorBatches))
    bar = progress(total=max(cfg.max_epochs - start_epoch, 0), desc=cfg.desc, unit="epoch",
                   enabled=cfg.verbose > 0 and distributed.is_main_process())
    for epoch in range(start_epoch, cfg.max_epochs):
        module.train()
        epoch_loss = torch.zeros((), device=device)
        seen = 0
        batches = data.epoch(batch_size, epoch)
        if row_bars:  # a streamed epoch can take minutes: show its rows as they go
            batches = progress(batches, total=-(-data.n_rows // batch_size), unit="batch",
                               desc=f"epoch {epoch + 1}")
        for target in batches:
            if world > 1 and not sharded:  # every rank holds the global batch: take a slice
                if target.shape[0] < world:  # a last batch too small to give each rank a row
                    break
                seen += target.shape[0]
                target = distributed.shard(target)
            else:
                seen += target.shape[0]
            inputs = corrupt(target) if corrupt is not None else target
            gradients.zero()
            loss = loss_fn(module, net(inputs), target, epoch)
            loss.backward()
            if cfg.grad_clip > 0:
                gradients.clip(cfg.grad_clip)
            optimizer.step()
            epoch_loss += loss.detach() * target.shape[0]
        if sharded:  # each rank counted its own rows
            seen = int(distributed.all_reduce_sum(torch.tensor(seen, device=device)))
        train_loss = float(distributed.all_reduce_sum(epoch_loss)) / max(seen, 1)
        if not math.isfinite(train_loss):
            logger.warning("training loss became %s at epoch %d; keeping the best weights so far",
                           train_loss, epoch)
            break
        history.train_loss.append(train_loss)
        history.lr.append(optimizer.param_groups[0]["lr"])
        monitored = train_loss
        if X_val is not None:
            # every rank holds the same weights and rows; the mean keeps them in lockstep
            monitored = distributed.all_reduce_mean(evaluate(module, loss_fn, X_val_in, target=X_val),
                                                    device)
            history.val_loss.append(monitored)
        if scheduler is not None:
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(monitored)
            else:
                scheduler.step()
        improved = monitored < best - cfg.min_delta * abs(best) or best_state is None
        if improved and history.best_epoch < 0 and X_val is not None and initial_rows is not None:
            # Leaving the initial weights (e.g. the PCA solution) needs a real, not a lucky, gain.
            improved = significantly_better(per_sample_losses(module, loss_fn, X_val_in, target=X_val),
                                            initial_rows, cfg.init_margin)
        if improved:
            best, bad_epochs = monitored, 0
            history.best_epoch = epoch
            best_state = copy.deepcopy(module.state_dict())
        else:
            bad_epochs += 1
        bar.set_postfix(loss=f"{train_loss:.4g}", refresh=False,
                        **({"val": f"{monitored:.4g}"} if X_val is not None else {}))
        if not bar.update(1):  # counted first, then shown: each epoch's line has its own count
            bar.refresh()
        if on_epoch_end is not None:
            on_epoch_end(epoch, history, module)
        stop = cfg.patience > 0 and bad_epochs >= cfg.patience
        if (checkpoint is not None and not stop and checkpoint.due(epoch)
                and distributed.is_main_process()):
            cuda_rng = (torch.cuda.get_rng_state(device) if device.type == "cuda" else None)
            checkpoint.save(TrainState(
                epoch, history, best, bad_epochs, best_state, initial_rows,
                optimizer.state_dict(), scheduler.state_dict() if scheduler is not None else None,
                torch.get_rng_state(), cuda_rng), module, fingerprint)
        if stop:
            history.stopped_early = True
            break
    bar.close()
    gradients.release()
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    history.seconds = time.perf_counter() - started
    return history
