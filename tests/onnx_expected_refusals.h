// onnx_expected_refusals.h — the cases of Debian's libonnx-testdata that use
// only ops lmask maps (tests/onnx_conformance_cases.py) but that lmask's
// graph cannot express, each with the words its refusal must contain. Every
// other such case must convert and match ONNX's output
// (tests/test_onnx_conformance.cpp): a case refused and not listed here, or
// listed and converted, fails the test. Written for libonnx-testdata 1.12.
#pragma once

namespace lmask::testing {

struct ExpectedRefusal {
  const char* id;   // "group/case", the folder under the package's data/
  const char* why;  // a phrase of convert_onnx.py's one line
};

// Why lmask's graph cannot hold them.
inline constexpr const char* kNotAnImage = "lmask's input is an image";  // a 1-D, 3-D or 5-D tensor
inline constexpr const char* kNotFloat32 = "lmask computes in float32";  // uint8, int64, double inputs
inline constexpr const char* kSeveralOutputs = "graph outputs; lmask's graph has one";  // training BatchNorm, argmax
inline constexpr const char* kPadsOverHalf = "exceed half the kernel";  // pads > kernel/2 (PyTorch refuses them too)
inline constexpr const char* kSameNotSymmetric = "so not symmetric";  // auto_pad SAME with an odd total
inline constexpr const char* kConstantOperand = "is a constant (or absent)";  // concat of a second graph input
inline constexpr const char* kAsymmetricPads = "lmask pads symmetrically";
inline constexpr const char* kFlattenAxis = "lmask flattens at axis 1";
inline constexpr const char* kTransposedA = "transA 1";
inline constexpr const char* kBiasPerRow = "not one per row";
inline constexpr const char* kDilatedPool = "lmask's pooling has no dilation";
inline constexpr const char* kNotSquare = "lmask's windows are square";
inline constexpr const char* kComputedWeight = "is computed, not a constant";  // Gemm's C a graph input

inline constexpr ExpectedRefusal kExpectedRefusals[] = {
    {"node/test_add", kNotAnImage},
    {"node/test_add_bcast", kNotAnImage},
    {"node/test_add_uint8", kNotFloat32},
    {"node/test_averagepool_1d_default", kNotAnImage},
    {"node/test_averagepool_2d_pads", kPadsOverHalf},
    {"node/test_averagepool_2d_pads_count_include_pad", kPadsOverHalf},
    {"node/test_averagepool_2d_same_lower", kSameNotSymmetric},
    {"node/test_averagepool_2d_same_upper", kSameNotSymmetric},
    {"node/test_averagepool_3d_default", kNotAnImage},
    {"node/test_batchnorm_epsilon_training_mode", kSeveralOutputs},
    {"node/test_batchnorm_example_training_mode", kSeveralOutputs},
    {"node/test_concat_1d_axis_0", kNotAnImage},
    {"node/test_concat_1d_axis_negative_1", kNotAnImage},
    {"node/test_concat_2d_axis_0", kConstantOperand},
    {"node/test_concat_2d_axis_1", kConstantOperand},
    {"node/test_concat_2d_axis_negative_1", kConstantOperand},
    {"node/test_concat_2d_axis_negative_2", kConstantOperand},
    {"node/test_concat_3d_axis_0", kNotAnImage},
    {"node/test_concat_3d_axis_1", kNotAnImage},
    {"node/test_concat_3d_axis_2", kNotAnImage},
    {"node/test_concat_3d_axis_negative_1", kNotAnImage},
    {"node/test_concat_3d_axis_negative_2", kNotAnImage},
    {"node/test_concat_3d_axis_negative_3", kNotAnImage},
    {"node/test_conv_with_strides_and_asymmetric_padding", kAsymmetricPads},
    {"node/test_flatten_axis0", kFlattenAxis},
    {"node/test_flatten_axis2", kFlattenAxis},
    {"node/test_flatten_axis3", kFlattenAxis},
    {"node/test_flatten_negative_axis1", kFlattenAxis},
    {"node/test_flatten_negative_axis2", kFlattenAxis},
    {"node/test_flatten_negative_axis4", kFlattenAxis},
    {"node/test_gemm_all_attributes", kTransposedA},
    {"node/test_gemm_default_matrix_bias", kBiasPerRow},
    {"node/test_gemm_transposeA", kTransposedA},
    {"node/test_hardsigmoid", kNotAnImage},
    {"node/test_hardsigmoid_default", kNotAnImage},
    {"node/test_hardsigmoid_example", kNotAnImage},
    {"node/test_hardswish", kNotAnImage},
    {"node/test_hardswish_expanded", kNotAnImage},
    {"node/test_maxpool_1d_default", kNotAnImage},
    {"node/test_maxpool_2d_dilations", kDilatedPool},
    {"node/test_maxpool_2d_pads", kPadsOverHalf},
    {"node/test_maxpool_2d_same_lower", kSameNotSymmetric},
    {"node/test_maxpool_2d_same_upper", kSameNotSymmetric},
    {"node/test_maxpool_2d_uint8", kNotFloat32},
    {"node/test_maxpool_3d_default", kNotAnImage},
    {"node/test_maxpool_with_argmax_2d_precomputed_pads", kSeveralOutputs},
    {"node/test_maxpool_with_argmax_2d_precomputed_strides", kSeveralOutputs},
    {"node/test_mul", kNotAnImage},
    {"node/test_mul_bcast", kNotAnImage},
    {"node/test_mul_example", kNotAnImage},
    {"node/test_mul_uint8", kNotFloat32},
    {"node/test_relu", kNotAnImage},
    {"node/test_sigmoid", kNotAnImage},
    {"node/test_sigmoid_example", kNotAnImage},
    {"pytorch-converted/test_AvgPool3d", kNotAnImage},
    {"pytorch-converted/test_AvgPool3d_stride", kNotAnImage},
    {"pytorch-converted/test_AvgPool3d_stride1_pad0_gpu_input", kNotAnImage},
    {"pytorch-converted/test_BatchNorm1d_3d_input_eval", kNotAnImage},
    {"pytorch-converted/test_BatchNorm3d_eval", kNotAnImage},
    {"pytorch-converted/test_BatchNorm3d_momentum_eval", kNotAnImage},
    {"pytorch-converted/test_Conv1d", kNotAnImage},
    {"pytorch-converted/test_Conv1d_dilated", kNotAnImage},
    {"pytorch-converted/test_Conv1d_groups", kNotAnImage},
    {"pytorch-converted/test_Conv1d_pad1", kNotAnImage},
    {"pytorch-converted/test_Conv1d_pad1size1", kNotAnImage},
    {"pytorch-converted/test_Conv1d_pad2", kNotAnImage},
    {"pytorch-converted/test_Conv1d_pad2size1", kNotAnImage},
    {"pytorch-converted/test_Conv1d_stride", kNotAnImage},
    {"pytorch-converted/test_Conv2d", kNotSquare},
    {"pytorch-converted/test_Conv2d_groups", kNotSquare},
    {"pytorch-converted/test_Conv2d_groups_thnn", kNotSquare},
    {"pytorch-converted/test_Conv2d_no_bias", kNotSquare},
    {"pytorch-converted/test_Conv3d", kNotAnImage},
    {"pytorch-converted/test_Conv3d_dilated", kNotAnImage},
    {"pytorch-converted/test_Conv3d_dilated_strided", kNotAnImage},
    {"pytorch-converted/test_Conv3d_groups", kNotAnImage},
    {"pytorch-converted/test_Conv3d_no_bias", kNotAnImage},
    {"pytorch-converted/test_Conv3d_stride", kNotAnImage},
    {"pytorch-converted/test_Conv3d_stride_padding", kNotAnImage},
    {"pytorch-converted/test_MaxPool1d", kNotAnImage},
    {"pytorch-converted/test_MaxPool1d_stride", kNotAnImage},
    {"pytorch-converted/test_MaxPool1d_stride_padding_dilation", kNotAnImage},
    {"pytorch-converted/test_MaxPool2d_stride_padding_dilation", kNotSquare},
    {"pytorch-converted/test_MaxPool3d", kNotAnImage},
    {"pytorch-converted/test_MaxPool3d_stride", kNotAnImage},
    {"pytorch-converted/test_MaxPool3d_stride_padding", kNotAnImage},
    {"pytorch-operator/test_operator_add_broadcast", kNotFloat32},
    {"pytorch-operator/test_operator_add_size1_broadcast", kNotFloat32},
    {"pytorch-operator/test_operator_add_size1_right_broadcast", kNotFloat32},
    {"pytorch-operator/test_operator_add_size1_singleton_broadcast", kNotFloat32},
    {"pytorch-operator/test_operator_addmm", kComputedWeight},
    {"pytorch-operator/test_operator_concat2", kConstantOperand},
    {"pytorch-operator/test_operator_maxpool", kNotAnImage},
    {"pytorch-operator/test_operator_non_float_params", kNotFloat32},
    {"pytorch-operator/test_operator_view", kNotAnImage},
};

}  // namespace lmask::testing
