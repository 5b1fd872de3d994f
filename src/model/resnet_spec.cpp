// resnet_spec.cpp — the torchvision ResNet family as descriptions.
#include "lmask/error.h"
#include "lmask/resnet.h"

namespace lmask {

ResNetSpec ResNetSpec::from_arch(const std::string& arch, int num_classes, const std::string& source) {
  ResNetSpec s;
  s.num_classes = num_classes;
  if (arch == "resnet18") s.bottleneck = false, s.blocks = {2, 2, 2, 2};
  else if (arch == "resnet34") s.bottleneck = false, s.blocks = {3, 4, 6, 3};
  else if (arch == "resnet50") s.blocks = {3, 4, 6, 3};
  else if (arch == "resnet101") s.blocks = {3, 4, 23, 3};
  else if (arch == "resnet152") s.blocks = {3, 8, 36, 3};
  else if (arch == "resnext50_32x4d") s.blocks = {3, 4, 6, 3}, s.groups = 32, s.width_per_group = 4;
  else if (arch == "resnext101_32x8d") s.blocks = {3, 4, 23, 3}, s.groups = 32, s.width_per_group = 8;
  else if (arch == "wide_resnet50_2") s.blocks = {3, 4, 6, 3}, s.width_per_group = 128;
  else if (arch == "wide_resnet101_2") s.blocks = {3, 4, 23, 3}, s.width_per_group = 128;
  else
    throw InputError(source, "unknown architecture '" + arch +
                                 "' (known: resnet18/34/50/101/152, resnext50_32x4d, "
                                 "resnext101_32x8d, wide_resnet50_2, wide_resnet101_2, squeezenet1_0, squeezenet1_1, "
                                 "densenet121/161/169/201, mobilenet_v3_large, mobilenet_v3_small, "
                                 "efficientnet_b0..b7)");
  return s;
}

}  // namespace lmask
