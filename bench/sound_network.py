"""The sound judge's convolutional network: learned with PyTorch (offline only: the analysis runs
the exported ONNX file with OpenCV's DNN module), on the candidates' spectrograms
(``judge.image``: 2 x 50 hops x 32 mel bands).

Four blocks of 3 x 3 convolutions (16, 32, 64, 64 channels, batch-normalised), max-pooled by 2
after the first three, then the mean and the maximum of every channel over the whole window, and
one linear layer to the four classes. About 61,000 weights. ``SEEDS`` networks learned from
different seeds are exported as one graph whose output is their mean log-probability, softmaxed.

Learning: mini-batches drawn with the training's sample weights (``train_sounds.weights_of``), a
little augmentation (a shift of up to 2 hops, a gain of up to ±5 dB on the level channel, one
frequency band of up to 4 mel bands zeroed half of the time), AdamW with a one-cycle schedule.
Deterministic on the CPU for a given seed and thread count.
"""

import numpy as np

CLASSES = ("detonation", "glass", "scream", "none")
EPOCHS = 20
SEEDS = 2
WIDTH = 16
BATCH = 128
THREADS = 2


def _torch():
    try:
        import torch
    except ImportError as error:  # a training-only dependency
        raise SystemExit("Learning the sound network needs PyTorch: "
                         ".venv/bin/pip install -e '.[train]'") from error
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    return torch


def version() -> str:
    return _torch().__version__


def _network(width: int):
    torch = _torch()
    nn = torch.nn

    def block(given: int, made: int):
        return nn.Sequential(nn.Conv2d(given, made, 3, padding=1, bias=False),
                             nn.BatchNorm2d(made), nn.ReLU())

    class Network(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(
                block(2, width), nn.MaxPool2d(2), block(width, 2 * width), nn.MaxPool2d(2),
                block(2 * width, 4 * width), nn.MaxPool2d(2), block(4 * width, 4 * width))
            self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(8 * width, len(CLASSES)))

        def forward(self, x):
            h = self.body(x)
            return self.head(torch.cat((h.mean(dim=(2, 3)), h.amax(dim=(2, 3))), 1))

    return Network()


def learned(images: np.ndarray, y: np.ndarray, weights: np.ndarray, seed: int,
            epochs: int = EPOCHS, width: int = WIDTH):
    """One network learned on ``images`` (n x 2 x hops x bands) of classes ``y``."""
    torch = _torch()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    network = _network(width)
    x = torch.from_numpy(np.ascontiguousarray(images, np.float32))
    target = torch.tensor([CLASSES.index(c) for c in y])
    p = weights / weights.sum()
    steps = max(1, len(y) // BATCH)
    optimiser = torch.optim.AdamW(network.parameters(), 2e-3, weight_decay=1e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, 3e-3, total_steps=epochs * steps)
    bands = images.shape[3]
    for _ in range(epochs):
        network.train()
        for _ in range(steps):
            pick = torch.from_numpy(rng.choice(len(y), BATCH, p=p))
            batch = x[pick].clone()
            masked = np.flatnonzero(rng.random(BATCH) < 0.5)
            low = rng.integers(0, bands - 4, len(masked))
            wide = rng.integers(1, 5, len(masked))
            for row, start, n in zip(masked, low, wide):
                batch[row, :, :, start:start + n] = 0.0
            shift = int(rng.integers(-2, 3))
            if shift:
                batch = torch.roll(batch, shift, 2)
            gain = rng.uniform(-0.25, 0.25, (BATCH, 1, 1))
            batch[:, 0] += torch.from_numpy(gain.astype(np.float32))
            loss = torch.nn.functional.cross_entropy(network(batch), target[pick])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    return network.eval()


def ensemble(networks: list):
    """The networks as one: the softmax of their mean log-probabilities."""
    torch = _torch()

    class Ensemble(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.members = torch.nn.ModuleList(networks)

        def forward(self, x):
            logs = [torch.log_softmax(m(x), 1) for m in self.members]
            return torch.softmax(torch.stack(logs).mean(0), 1)

    return Ensemble().eval()


def learned_ensemble(images, y, weights, seed: int, epochs: int = EPOCHS, seeds: int = SEEDS):
    return ensemble([learned(images, y, weights, seed * 100 + k, epochs) for k in range(seeds)])


def probabilities(model, images: np.ndarray) -> np.ndarray:
    torch = _torch()
    out = []
    with torch.no_grad():
        for start in range(0, len(images), 2048):
            out.append(model(torch.from_numpy(
                np.ascontiguousarray(images[start:start + 2048], np.float32))).numpy())
    return np.concatenate(out).astype(np.float64)


def export(model, path, shape: tuple[int, int, int]) -> None:
    """As ONNX (opset 13), one input ``image`` of ``shape`` and one output ``probabilities``."""
    torch = _torch()
    torch.onnx.export(model, torch.zeros((1, *shape)), str(path), input_names=["image"],
                      output_names=["probabilities"], opset_version=13, dynamo=False)
