"""The torchvision architectures lmask builds, and what the tools need to know of each.

What it is: one table, shared by convert_torchvision.py and reference_logits.py,
of the architecture names lmask's C++ builders accept (src/model/zoo_graph.cpp
and the ResNet builder pick by the weight file's `arch` attribute), their
family, the state_dict key of the classifier whose rows are the classes, and
where the family's "features" are: the tensor lmask's graph marks as its
features node, the head's input (Model::features).

What it is not: a model builder (torchvision's constructors are) or a list of
everything torchvision has; an architecture lmask cannot build is left out so
that the converter refuses it instead of writing a file lmask would refuse.
"""

RESNET_ARCHS = (
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "resnext50_32x4d", "resnext101_32x8d", "wide_resnet50_2", "wide_resnet101_2",
)
ZOO_ARCHS = (
    "squeezenet1_0", "squeezenet1_1",
    "densenet121", "densenet161", "densenet169", "densenet201",
    "mobilenet_v3_large", "mobilenet_v3_small",
) + tuple(f"efficientnet_b{i}" for i in range(8))
SUPPORTED_ARCHS = RESNET_ARCHS + ZOO_ARCHS

# family -> (classifier weight key, its rank, features module, "input" | "output").
# The features are the input of the classifier module (the flattened pooled
# vector) everywhere but in SqueezeNet, whose classifier ends with the pool:
# lmask marks that pooled [N,1000,1,1] as the features, with only a flatten after.
_FAMILIES = {
    "resnet": ("fc.weight", 2, "fc", "input"),
    "squeezenet": ("classifier.1.weight", 4, "classifier", "output"),
    "densenet": ("classifier.weight", 2, "classifier", "input"),
    "mobilenet_v3": ("classifier.3.weight", 2, "classifier", "input"),
    "efficientnet": ("classifier.1.weight", 2, "classifier", "input"),
}


def family(arch):
    """'resnet', 'squeezenet', 'densenet', 'mobilenet_v3' or 'efficientnet'; KeyError otherwise."""
    if arch in RESNET_ARCHS:
        return "resnet"
    if arch in ZOO_ARCHS:
        return next(f for f in _FAMILIES if arch.startswith(f))
    raise KeyError(arch)


def classifier_key(arch):
    """(state_dict key whose first dimension is the number of classes, its rank)."""
    key, rank, _, _ = _FAMILIES[family(arch)]
    return key, rank


def features_site(arch):
    """(module name, 'input' or 'output'): where the features are, flattened to [N, C]."""
    _, _, module, side = _FAMILIES[family(arch)]
    return module, side
