// resnet_load_h5.cpp — ResNet::load from an HDF5 weight file. Apart from
// resnet_load.cpp because the embedded build (no HDF5) builds a ResNet from
// the Weights of a .lmw buffer instead (lmw.h) and leaves this file out.
#include "lmask/resnet.h"

namespace lmask {

ResNet ResNet::load(const std::string& h5_path, LoadOptions options) {
  return load(load_weights(h5_path), options);
}

}  // namespace lmask
