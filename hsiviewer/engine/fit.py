"""The torch training loop behind :func:`hsiviewer.engine.training.train_model`.

Batches come from :func:`hsiviewer.processing.patches.patch_loader` (one vectorised gather per batch, shuffled
by a seeded ``torch.Generator``), or on CUDA from a :class:`~hsiviewer.processing.patches.DevicePatchLoader`
that gathers them on the GPU. Mixed precision is used on CUDA only. The weights kept are those of
the epoch with the best validation accuracy when there is validation, else of the last epoch: the
running training loss is measured with dropout on and with changing weights, so it is a poor judge.
"""

from __future__ import annotations

import contextlib
import random
import time
from typing import Optional

import numpy as np
import torch
from torch import nn

from hsiviewer.engine.batches import DevicePatchLoader, PatchDataset, patch_loader, to_model_input
from hsiviewer.engine.bundle import build_net
from hsiviewer.progress import CancelToken, EtaClock, ProgressCallback, ProgressEvent, report


class Precision:
    """Autocast and gradient scaling for one device: bfloat16 (or float16 + scaler) on CUDA, else off."""

    def __init__(self, device: torch.device, enabled: bool) -> None:
        self.device_type = device.type
        self.enabled = bool(enabled) and device.type == "cuda"
        bf16 = self.enabled and torch.cuda.is_bf16_supported()
        self.dtype = torch.bfloat16 if bf16 else torch.float16
        self.scaler = torch.amp.GradScaler("cuda") if self.enabled and not bf16 else None

    def autocast(self):
        """The autocast context (a no-op when disabled)."""
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """Backward pass and optimiser step, scaled for float16."""
        if self.scaler is None:
            loss.backward()
            optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(optimizer)
            self.scaler.update()


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) random generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


#: Largest padded cube (bytes) copied to an accelerator for on-device patch gathering.
MAX_DEVICE_CUBE = 4 * 2**30


def make_loader(
    dataset: PatchDataset,
    batch_size: int,
    device: torch.device,
    shuffle: bool = False,
    generator: Optional[torch.Generator] = None,
):
    """Batches of ``dataset``: gathered on the device for CUDA (when the cube fits), else on the host."""
    if device.type == "cuda" and dataset.padded.nbytes <= MAX_DEVICE_CUBE:
        return DevicePatchLoader(dataset, batch_size, device, shuffle=shuffle, generator=generator)
    return patch_loader(dataset, batch_size, shuffle=shuffle, generator=generator)


def _snapshot(net: nn.Module) -> dict:
    return {k: v.detach().to("cpu", copy=True) for k, v in net.state_dict().items()}


def fit_torch(
    spec,
    hyper: dict,
    config,
    data,
    device: torch.device,
    progress: Optional[ProgressCallback],
    cancel: Optional[CancelToken],
):
    """Train a network; returns ``(net in eval mode, history, cancelled, extra metrics)``."""
    seed_everything(int(config.seed))
    net = build_net(spec, data.preprocessor.n_outputs, len(data.class_ids), hyper).to(device)
    loop = _Loop(net, spec.input_kind, config, device, progress, cancel)
    train_ds = data.dataset(data.split.train)
    val_ds = data.dataset(data.split.val) if len(data.split.val) else None
    loader = make_loader(
        train_ds, config.batch_size, device, shuffle=True, generator=torch.Generator().manual_seed(int(config.seed))
    )
    loop.total = int(config.epochs) * len(loader)
    loop.clock = EtaClock(loop.total)
    history, kept, best_val, best_epoch = [], None, -1.0, None
    for epoch in range(1, int(config.epochs) + 1):
        record = loop.epoch(loader, epoch, val_ds)
        if record is None:  # cancelled part-way through this epoch
            break
        history.append(record)
        val_acc = record["val_acc"]
        if val_acc is None or val_acc > best_val:
            kept, best_epoch = _snapshot(net), epoch
            best_val = best_val if val_acc is None else val_acc
        report(
            progress,
            ProgressEvent(
                "epoch", epoch, int(config.epochs), _epoch_line(record), loop.clock.eta(loop.step), dict(record)
            ),
        )
    if kept is not None:
        net.load_state_dict(kept)
    extra = {"best_epoch": best_epoch, "val_acc": None if best_val < 0 else best_val}
    return net.eval(), history, loop.cancelled, extra


def _epoch_line(record: dict) -> str:
    text = f"epoch {record['epoch']}: loss {record['loss']:.4f}, train acc {record['train_acc']:.1%}"
    return text + (f", val acc {record['val_acc']:.1%}" if record["val_acc"] is not None else "")


class _Loop:
    """One training run's state: optimiser, loss, precision, batch counter and cancel flag."""

    def __init__(self, net, input_kind, config, device, progress, cancel) -> None:
        self.net, self.kind, self.config, self.device = net, input_kind, config, device
        self.progress, self.cancel = progress, cancel
        self.optimizer = torch.optim.Adam(net.parameters(), lr=float(config.lr))
        self.scheduler = None
        if getattr(config, "lr_schedule", "constant") == "cosine":
            self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=int(config.epochs))
        self.loss_fn = nn.CrossEntropyLoss()
        self.precision = Precision(device, config.amp)
        self.step, self.total, self.clock, self.cancelled = 0, 0, EtaClock(1), False

    def epoch(self, loader, epoch: int, val_ds: Optional[PatchDataset]) -> Optional[dict]:
        """Train one epoch; its history record, or None when cancelled during it."""
        start = time.perf_counter()
        self.net.train()
        loss_sum, correct, seen = 0.0, 0, 0
        for batch, (patches, targets) in enumerate(loader, 1):
            if self.cancel is not None and self.cancel.cancelled:
                self.cancelled = True
                return None
            if len(targets) < 2:  # BatchNorm cannot train on a single sample; it is a different one each epoch
                continue
            loss, hits = self._train_batch(patches, targets)
            loss_sum, correct, seen = loss_sum + loss * len(targets), correct + hits, seen + len(targets)
            self.step += 1
            report(
                self.progress,
                ProgressEvent(
                    "batch",
                    self.step,
                    self.total,
                    f"epoch {epoch}, batch {batch}",
                    self.clock.eta(self.step),
                    {"epoch": epoch, "batch": batch, "loss": loss},
                ),
            )
        if self.scheduler is not None:
            self.scheduler.step()
        val_acc = None
        if val_ds is not None:
            pred = predict_dataset(self.net, val_ds, self.kind, self.device, self.config)
            val_acc = float(np.mean(pred == val_ds.targets))
        return {
            "epoch": epoch,
            "loss": loss_sum / max(1, seen),
            "train_acc": correct / max(1, seen),
            "val_acc": val_acc,
            "seconds": round(time.perf_counter() - start, 3),
        }

    def _train_batch(self, patches: torch.Tensor, targets: torch.Tensor) -> tuple[float, int]:
        x = to_model_input(patches, self.kind).to(self.device, non_blocking=True)
        y = targets.to(self.device, non_blocking=True)
        self.optimizer.zero_grad(set_to_none=True)
        with self.precision.autocast():
            logits = self.net(x)
            loss = self.loss_fn(logits.float(), y)
        self.precision.step(loss, self.optimizer)
        return float(loss.detach()), int((logits.argmax(1) == y).sum())


def predict_dataset(
    net: nn.Module,
    dataset: PatchDataset,
    input_kind,
    device: torch.device,
    config,
    progress: Optional[ProgressCallback] = None,
) -> np.ndarray:
    """Output indices for every item of ``dataset``, in order, in eval mode without gradients."""
    net.to(device).eval()
    loader = make_loader(dataset, max(1, int(config.batch_size)) * 2, device)
    out = []
    with torch.inference_mode():
        for i, (patches, _) in enumerate(loader, 1):
            # full precision: a bfloat16 forward pass can flip close calls, and this is what is reported
            logits = net(to_model_input(patches, input_kind).to(device, non_blocking=True))
            out.append(logits.argmax(1).cpu().numpy())
            if progress is not None:
                report(progress, ProgressEvent("evaluate", i, len(loader), "testing"))
    return np.concatenate(out) if out else np.zeros(0, np.int64)
