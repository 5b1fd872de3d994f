# embedded.cmake — the -DLMASK_EMBEDDED=ON build (included by CMakeLists.txt).
#
# lmask_embedded: the core with no external library. OpenMP pragmas in the
# ops compile to nothing without -fopenmp; lmask::sgemm is the portable
# blocked SGEMM (src/gemm/gemm_default.cpp). Left out: the HDF5 reader
# (weights come from .lmw buffers, lmw.h), images, datasets, studies, CLI.
# lmask_embedded_test: the golden clean and layer-masked cases on the arena
# forward (tests/embedded/golden_main.cpp), plain C++ without doctest.
# For qemu-aarch64 the Makefile's embedded-test passes the cross compiler,
# -DLMASK_NATIVE_ARCH=OFF and -DLMASK_EMBEDDED_STATIC=ON.
file(GLOB LMASK_EMBEDDED_OPS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/ops/*.cpp)
file(GLOB LMASK_EMBEDDED_GRAPH CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/graph/*.cpp)
# Graph descriptions (JSON, nlohmann-json) come with HDF5 weight files, which this build does not read.
list(FILTER LMASK_EMBEDDED_GRAPH EXCLUDE REGEX "/graph_json_[a-z]+\\.cpp$")
file(GLOB LMASK_EMBEDDED_OWN CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/embedded/*.cpp)
add_library(lmask_embedded STATIC
  src/core/error.cpp
  src/core/tensor.cpp
  src/core/mask.cpp
  src/core/pool_params.cpp
  ${LMASK_EMBEDDED_OPS}
  ${LMASK_EMBEDDED_GRAPH}
  src/model/resnet_spec.cpp
  src/model/resnet_load.cpp
  src/model/resnet_graph.cpp
  src/model/resnet_forward.cpp
  src/model/zoo_graph.cpp
  src/model/zoo_builder.cpp
  src/model/squeezenet_graph.cpp
  src/model/densenet_graph.cpp
  src/model/mobilenet_v3_graph.cpp
  src/model/efficientnet_graph.cpp
  src/io/weights_get.cpp
  src/gemm/gemm_portable.cpp
  src/gemm/gemm_default.cpp
  ${LMASK_EMBEDDED_OWN})
target_include_directories(lmask_embedded PUBLIC include)
# The model builders run once, before any forward: compiled for size, not
# speed (their string handling takes 3-4x the bytes at -O3).
file(GLOB LMASK_EMBEDDED_BUILDERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/model/*.cpp)
set_source_files_properties(${LMASK_EMBEDDED_BUILDERS} PROPERTIES COMPILE_OPTIONS -Os)
# The ops' `#pragma omp` lines are expected to be ignored here.
target_compile_options(lmask_embedded PRIVATE -Wno-unknown-pragmas)

option(LMASK_EMBEDDED_STATIC "Link the embedded test statically (for qemu-user)" OFF)
add_executable(lmask_embedded_test tests/embedded/golden_main.cpp)
target_link_libraries(lmask_embedded_test PRIVATE lmask_embedded)
# The test counts every heap allocation a forward makes: each C allocation
# function is linked through a counting __wrap_ (golden_main.cpp); operator
# new, every variant, is replaced there. --wrap reaches every call in the
# objects linked here (the test and lmask_embedded, and the static C++
# runtime in the qemu build), whichever glibc this is, static or not.
target_link_options(lmask_embedded_test PRIVATE
  -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=aligned_alloc,--wrap=posix_memalign,--wrap=memalign)
if(LMASK_EMBEDDED_STATIC)
  target_link_options(lmask_embedded_test PRIVATE -static)
endif()
message(STATUS "lmask: embedded build (lmask_embedded, lmask_embedded_test)")
