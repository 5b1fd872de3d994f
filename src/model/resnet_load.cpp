// resnet_load.cpp — builds a ResNet's layers from its description and weights,
// naming every parameter exactly as torchvision's state_dict does.
#include <cstdio>

#include "lmask/error.h"
#include "lmask/resnet.h"

namespace lmask {

namespace {

std::vector<std::size_t> vec_dims(int c) { return {static_cast<std::size_t>(c)}; }

// A variance is never negative; a negative one (a damaged or hand-made
// file) would make BatchNorm's 1/sqrt(var + eps) NaN in every output.
void check_variance(const Weights& w, const std::string& key, const Tensor& var) {
  for (std::size_t i = 0; i < var.numel(); ++i)
    if (var.data()[i] < 0.f) {
      char value[32];
      std::snprintf(value, sizeof value, "%g", double(var.data()[i]));
      throw InputError(w.path, "key '" + key + "' holds a negative variance (" + value + " at index " +
                                   std::to_string(i) + ")");
    }
}

ConvBN load_conv_bn(const Weights& w, const std::string& conv_key, const std::string& bn_key,
                    ConvParams p, bool fold) {
  ConvBN layer;
  layer.name = conv_key, layer.bn_name = bn_key;
  layer.conv = p;
  const Shape ws = p.weight_shape();
  layer.weight = w.get(conv_key + ".weight", {std::size_t(ws.n), std::size_t(ws.c),
                                              std::size_t(ws.h), std::size_t(ws.w)});
  BatchNormParams bn;
  bn.gamma = w.get(bn_key + ".weight", vec_dims(p.out_channels));
  bn.beta = w.get(bn_key + ".bias", vec_dims(p.out_channels));
  bn.mean = w.get(bn_key + ".running_mean", vec_dims(p.out_channels));
  bn.var = w.get(bn_key + ".running_var", vec_dims(p.out_channels));
  check_variance(w, bn_key + ".running_var", bn.var);
  if (fold) fold_batchnorm(layer.weight, layer.bias, bn);  // rewrites weight in place
  else layer.bn = bn;
  return layer;
}

ConvParams conv(int in, int out, int k, int stride, int groups = 1) {
  ConvParams p;
  p.in_channels = in, p.out_channels = out, p.kernel = k, p.stride = stride;
  p.padding = k / 2, p.groups = groups;
  return p;
}

}  // namespace

ResNet ResNet::load(Weights w, LoadOptions options) {
  ResNet net;
  net.spec_ = ResNetSpec::from_arch(w.arch, w.num_classes, w.path);
  const ResNetSpec& s = net.spec_;
  const bool fold = options.fold_bn;
  net.stem_ = load_conv_bn(w, "conv1", "bn1", conv(3, 64, 7, 2), fold);

  int in = 64;
  const int expansion = s.bottleneck ? 4 : 1;
  for (int stage = 0; stage < 4; ++stage) {
    const int planes = 64 << stage;
    const int width = s.bottleneck ? planes * s.width_per_group / 64 * s.groups : planes;
    for (int b = 0; b < s.blocks[stage]; ++b) {
      const int stride = (stage > 0 && b == 0) ? 2 : 1;
      const std::string key = "layer" + std::to_string(stage + 1) + "." + std::to_string(b) + ".";
      Block block;
      if (s.bottleneck) {
        // v1.5: the stride sits on the 3x3 conv.
        block.convs.push_back(load_conv_bn(w, key + "conv1", key + "bn1", conv(in, width, 1, 1), fold));
        block.convs.push_back(load_conv_bn(w, key + "conv2", key + "bn2",
                                           conv(width, width, 3, stride, s.groups), fold));
        block.convs.push_back(load_conv_bn(w, key + "conv3", key + "bn3",
                                           conv(width, planes * expansion, 1, 1), fold));
      } else {
        block.convs.push_back(load_conv_bn(w, key + "conv1", key + "bn1", conv(in, planes, 3, stride), fold));
        block.convs.push_back(load_conv_bn(w, key + "conv2", key + "bn2", conv(planes, planes, 3, 1), fold));
      }
      if (stride != 1 || in != planes * expansion) {
        block.has_downsample = true;
        block.downsample = load_conv_bn(w, key + "downsample.0", key + "downsample.1",
                                        conv(in, planes * expansion, 1, stride), fold);
      }
      in = planes * expansion;
      net.blocks_.push_back(std::move(block));
    }
  }
  const std::size_t classes = s.num_classes, features = s.feature_channels();
  net.fc_weight_ = w.get("fc.weight", {classes, features});
  net.fc_bias_ = w.get("fc.bias", {classes});
  w.params.clear();  // keep only the metadata (preprocessing, class names)
  w.dims.clear();
  net.meta_ = std::move(w);
  net.build_native_graph();
  return net;
}

}  // namespace lmask
