"""Sane activation scales for an untrained torchvision model (convert_torchvision.py --random-init).

What it is: the step after torchvision's own initialisation that makes a
random model usable as a test fixture or benchmark subject: its activations
neither explode nor vanish through the depth of the network.

  * With BatchNorm (ResNet, DenseNet, MobileNetV3, EfficientNet): a fresh
    model's running statistics (mean 0, var 1) are far from the real ones, so
    they are measured instead (calibrate_batchnorm).
  * Without (SqueezeNet): every conv is rescaled so that its output has
    standard deviation 1 on the calibration inputs (rescale_convs), the
    data-driven half of LSUV (Mishkin & Matas, "All you need is a good init",
    2016). Its biases, all zero in torchvision's init, are first drawn
    N(0, 0.1), as trained biases are never all zero: a file whose biases are
    all zero could not show a reader that drops them.

The calibration inputs are `batches` seeded N(0,1) batches [batch_size, 3,
size, size]. What it is not: training; the outputs are numerically sane,
not accurate. Importable: calibrate(model, batches, batch_size, size, seed)
and the two steps it chooses between.
"""

import torch

_BATCHNORM = torch.nn.modules.batchnorm._BatchNorm
BIAS_STD = 0.1


def _inputs(batches, batch_size, size, seed):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(batch_size, 3, size, size, generator=generator) for _ in range(batches)]


def calibrate_batchnorm(model, batches=4, batch_size=8, size=224, seed=0):
    """Replaces BatchNorm running stats by statistics measured on N(0,1) inputs.

    Only the BatchNorm modules run in train mode, with momentum=None (an exact
    cumulative average over the batches); Dropout and EfficientNet's
    stochastic depth stay in eval mode, so the statistics are those of the
    network that eval runs, not of one with random blocks dropped.
    """
    if batches <= 0:
        return model
    bns = [m for m in model.modules() if isinstance(m, _BATCHNORM)]
    saved_momentum = [m.momentum for m in bns]
    model.eval()
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    with torch.no_grad():
        for x in _inputs(batches, batch_size, size, seed):
            model(x)
    for m, momentum in zip(bns, saved_momentum):
        m.momentum = momentum  # restore torchvision's default for anyone training later
    return model.eval()


def rescale_convs(model, batches=4, batch_size=8, size=224, seed=0):
    """Divides each conv's weight and bias by the std of its output, in forward order.

    One forward pass over all calibration inputs at once: a hook on each conv
    rescales the module and returns its output divided by the same factor,
    which is exactly what the rescaled module computes, so every later conv
    is measured on the inputs it will see.
    """
    if batches <= 0:
        return model
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    generator = torch.Generator().manual_seed(seed + 1)  # not the inputs' stream
    with torch.no_grad():
        for conv in convs:
            if conv.bias is not None:
                conv.bias.copy_(torch.randn(conv.bias.shape, generator=generator) * BIAS_STD)

    def rescale(module, _inputs, output):
        std = output.std().item()
        if not std > 0:  # a dead layer stays as it is; dividing would make NaNs
            return output
        module.weight.div_(std)
        if module.bias is not None:
            module.bias.div_(std)
        return output / std

    hooks = [conv.register_forward_hook(rescale) for conv in convs]
    try:
        with torch.no_grad():
            model.eval()(torch.cat(_inputs(batches, batch_size, size, seed)))
    finally:
        for hook in hooks:
            hook.remove()
    return model


def calibrate(model, batches=4, batch_size=8, size=224, seed=0):
    """calibrate_batchnorm for a model with BatchNorm, else rescale_convs; eval mode."""
    if any(isinstance(m, _BATCHNORM) for m in model.modules()):
        return calibrate_batchnorm(model, batches, batch_size, size, seed)
    return rescale_convs(model, batches, batch_size, size, seed).eval()
