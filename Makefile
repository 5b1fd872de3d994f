# lmask — the two commands a new user needs:
#   make run    install what is missing, build, classify the images in data/,
#               run the four studies on the shipped model, write the report
#   make test   install what is missing, build, run every test, then again
#               under AddressSanitizer + UndefinedBehaviorSanitizer; the CUDA
#               backend's build (where nvcc is) and the embedded build's tests
BUILD   ?= build
JOBS    ?= $(shell nproc)
PYTHON  := /usr/bin/python3
LMASK   := $(BUILD)/lmask
# The shipped model when present, else an untrained one made by the converter.
WEIGHTS ?= $(firstword $(wildcard weights/resnet50_fmnist.h5) weights/resnet50_random.h5)

REPORT  ?= $(BUILD)/report
# Study sizes for `make run`: about 15 minutes on 2 cores in all.
STUDY_LIMIT ?= 200
LIME_LIMIT  ?= 8
LIME_SAMPLES ?= 256

.PHONY: all deps build run studies test python-test bench clean

all: build

deps:
	@tools/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

weights/resnet50_random.h5:
	$(PYTHON) tools/convert_torchvision.py --random-init --arch resnet50 --seed 0 --out $@

run: build $(WEIGHTS)
	$(LMASK) classify --weights $(WEIGHTS) --topk 5 data/*.png data/*.jpg
	@$(MAKE) --no-print-directory studies

studies: build $(WEIGHTS)
	$(LMASK) study removal   --weights $(WEIGHTS) --limit $(STUDY_LIMIT) --seed 0 --out $(REPORT)
	$(LMASK) study leakage   --weights $(WEIGHTS) --limit $(STUDY_LIMIT) --seed 0 --out $(REPORT)
	$(LMASK) study linearity --weights $(WEIGHTS) --limit $(STUDY_LIMIT) --seed 0 --out $(REPORT)
	$(LMASK) study lime      --weights $(WEIGHTS) --limit $(LIME_LIMIT) --samples $(LIME_SAMPLES) --seed 0 --out $(REPORT)
	@echo "report: $(REPORT)/index.html"

# Every test: the CUDA backend's build and tests where nvcc is (skipped
# without a GPU), the embedded build's golden cases natively and under
# qemu-aarch64, the suite under ASan + UBSan, and the suite itself last, so
# that a log ends on its summary (how many tests ran and passed).
test: build
	@$(MAKE) --no-print-directory cuda-if-nvcc
	@$(MAKE) --no-print-directory embedded-test
	@$(MAKE) --no-print-directory test-sanitize
	cd $(BUILD) && ctest --output-on-failure -j2

# The Python module's tests alone (tests/python; `make test` runs them too):
# PYTHONPATH=$(BUILD)/python $(PYTHON) -c "import lmask" is the module.
python-test: build
	cd $(BUILD) && ctest --output-on-failure -j2 -R '^python: '

bench: build $(WEIGHTS)
	$(LMASK) bench --weights $(WEIGHTS) --batch 1 --iters 20
	$(LMASK) bench --weights $(WEIGHTS) --batch 8 --iters 5
	$(PYTHON) tools/bench_torch.py --arch resnet50 --batch 1 --iters 20
	$(PYTHON) tools/bench_torch.py --arch resnet50 --batch 8 --iters 5

clean:
	rm -rf $(BUILD)

# ---- reliability (README "Reliability"): fuzzing, sanitizers, valgrind ----
# Each in a build directory of its own: the instrumented builds are slower
# and must not replace the normal one.

# make fuzz: every libFuzzer target of tests/fuzz for FUZZ_SECONDS each,
# built with Debian's clang under ASan + UBSan; fails on any finding.
FUZZ_SECONDS ?= 60
FUZZ_BUILD   ?= build-fuzz
FUZZ_TARGETS := image weights idx masks lmw study_files graph_json
FUZZ_FLAGS   := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# make test-sanitize: the whole test suite built with ASan + UBSan (gcc) at
# -O1 -g1 (line numbers in reports, a faster build), without the Python
# module (an instrumented extension cannot load into python3); the tests run in about
# 4 minutes on 2 cores, a first build takes longer.
# SANITIZE_SKIP, a CTest regex, can leave cases out when time is short.
# (-Wno-maybe-uninitialized: GCC 12 warns falsely in <regex> under ASan.)
ASAN_BUILD     ?= build-asan
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
                  -Wno-maybe-uninitialized
SANITIZE_SKIP  ?= ^$$

# make valgrind: memcheck of one layer-masked classify on the small model, on
# the native backend: oneDNN's JIT kernels read whole vectors past the ends
# of their own packing buffers, which memcheck reports (ASan covers oneDNN
# runs in the suite). Built without -march=native: valgrind 3.19 cannot run
# AVX-512 code (it hides AVX-512 from CPUID, so OpenBLAS picks other kernels
# by itself).
VALGRIND_BUILD   ?= build-valgrind
VALGRIND_WEIGHTS ?= $(firstword $(wildcard weights/resnet50_fmnist.h5) $(VALGRIND_BUILD)/resnet50_random_64px.h5)

.PHONY: fuzz test-sanitize valgrind

fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLMASK_FUZZ=ON \
	  -DLMASK_ONEDNN=OFF -DLMASK_PYTHON=OFF "-DCMAKE_C_FLAGS=$(FUZZ_FLAGS)" "-DCMAKE_CXX_FLAGS=$(FUZZ_FLAGS)" \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@tools/run-fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

test-sanitize: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLMASK_PYTHON=OFF "-DCMAKE_C_FLAGS=$(SANITIZE_FLAGS)" \
	  "-DCMAKE_CXX_FLAGS=$(SANITIZE_FLAGS)" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j2 -E '$(SANITIZE_SKIP)'

$(VALGRIND_BUILD)/lmask: deps
	@cmake -S . -B $(VALGRIND_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLMASK_NATIVE_ARCH=OFF >/dev/null
	@cmake --build $(VALGRIND_BUILD) -j$(JOBS) --target lmask

$(VALGRIND_BUILD)/resnet50_random_64px.h5: | $(VALGRIND_BUILD)/lmask
	cp ../shared/golden/resnet50_random.h5 $@ && chmod u+w $@
	$(PYTHON) -c "import h5py, sys; f = h5py.File(sys.argv[1], 'r+'); f.attrs['input_size'] = 64; f.attrs['resize_size'] = 64" $@

valgrind: $(VALGRIND_BUILD)/lmask $(VALGRIND_WEIGHTS)
	OMP_NUM_THREADS=1 valgrind --tool=memcheck --error-exitcode=1 \
	  --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	  --suppressions=tools/valgrind.supp \
	  $(VALGRIND_BUILD)/lmask classify --backend native --method layer --remove 0.5 --weights $(VALGRIND_WEIGHTS) data/fmnist-test-0.png

# ---- CUDA backend (issue 9; README "Backends") ----
# make cuda: lmask with the CUDA backend in build-cuda (needs nvcc and cuBLAS,
# not a GPU), then its tests: on a machine without a visible GPU those that
# need one report as skipped and the host-code ones (the arena plan) run.
# CI calls `make cuda-if-nvcc`, which does this whenever nvcc is present, so
# a compile error in the backend fails CI. On a GPU machine,
# tools/gpu_check.sh runs the tests, the op table's cuda column, the golden
# trained cases on cuda and the benchmark table.
CUDA_BUILD ?= build-cuda
NVCC       ?= $(firstword $(shell command -v nvcc 2>/dev/null) $(wildcard /usr/local/cuda/bin/nvcc))

.PHONY: cuda cuda-if-nvcc

cuda: deps
	@cmake -S . -B $(CUDA_BUILD) -DCMAKE_BUILD_TYPE=Release -DLMASK_CUDA=ON \
	  $(if $(NVCC),-DCMAKE_CUDA_COMPILER=$(NVCC)) >/dev/null
	@cmake --build $(CUDA_BUILD) -j$(JOBS) --target lmask lmask_cuda_tests
	cd $(CUDA_BUILD) && ctest --output-on-failure -R '^cuda: '

cuda-if-nvcc:
	@if [ -n "$(NVCC)" ]; then $(MAKE) --no-print-directory cuda; \
	else echo "cuda: nvcc not found, CUDA backend not built"; fi

# ---- embedded (issue 8; README "Embedded") ----
# The dependency-free core (cmake -DLMASK_EMBEDDED=ON: no OpenBLAS, OpenMP,
# HDF5 or fmt) and its golden test, on the arena forward, reading .lmw files:
#   make embedded-native  built for this machine in build-embedded, every
#                         golden image and mask kind (seconds)
#   make embedded-test    that, then cross-built for aarch64 with Debian's
#                         g++-aarch64-linux-gnu (static) and run under
#                         qemu-aarch64: EMBEDDED_IMAGES images, mask kinds
#                         EMBEDDED_KINDS (emulation is slow); CI runs this
# The .lmw inputs are made in the build directories: the model by
# `lmask export` of the normal build, the cases by tools/golden_cases_lmw.py.
# Besides ResNet-50, the zoo's SqueezeNet 1.1 and MobileNetV3-Large run in
# every weight dtype (ZOO_EMBEDDED, LMW_DTYPES): f32 and f16 against the
# golden logits (the golden weights are float16, so f16 is exact), int8
# with lmask_embedded_test --quantized.
EMBEDDED_BUILD  ?= build-embedded
AARCH64_BUILD   ?= build-aarch64
GOLDEN          := ../shared/golden
EMBEDDED_IMAGES ?= 1
EMBEDDED_KINDS  ?= 0
AARCH64_CMAKE   := -DLMASK_EMBEDDED=ON -DLMASK_NATIVE_ARCH=OFF -DLMASK_EMBEDDED_STATIC=ON \
                   -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
                   -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++

.PHONY: embedded-native embedded-test

%/resnet50_random.lmw: $(GOLDEN)/resnet50_random.h5 | build
	@mkdir -p $*
	$(LMASK) export --weights $< --out $@

%/golden_cases.lmw: $(GOLDEN)/cases.h5 | deps
	@mkdir -p $*
	$(PYTHON) tools/golden_cases_lmw.py $< $@

ZOO_EMBEDDED := squeezenet1_1 mobilenet_v3_large
LMW_DTYPES   := f32 f16 int8
# $(1): a build directory, $(2): an architecture of ZOO_EMBEDDED.
define zoo_lmw_rules
$(1)/$(2)-%.lmw: $(GOLDEN)/zoo/$(2)_random.h5 | build
	@mkdir -p $(1)
	$(LMASK) export --weights $$< --out $$@ --dtype $$*
$(1)/$(2)-cases.lmw: $(GOLDEN)/cases.h5 $(GOLDEN)/zoo/zoo_cases.h5 | deps
	@mkdir -p $(1)
	$(PYTHON) tools/golden_cases_lmw.py $(GOLDEN)/cases.h5 $$@ --arch $(2) $(GOLDEN)/zoo/zoo_cases.h5
endef
$(foreach d,$(EMBEDDED_BUILD) $(AARCH64_BUILD),$(foreach a,$(ZOO_EMBEDDED),$(eval $(call zoo_lmw_rules,$(d),$(a)))))
zoo_lmw = $(foreach a,$(ZOO_EMBEDDED),$(1)/$(a)-cases.lmw $(foreach t,$(LMW_DTYPES),$(1)/$(a)-$(t).lmw))
# $(1): how to run the test binary, $(2): its build directory, $(3): the
# options for the f32 and f16 runs. int8 gets --quantized.
zoo_embedded_runs = for a in $(ZOO_EMBEDDED); do for t in $(LMW_DTYPES); do \
	  $(1) $(2)/lmask_embedded_test $(2)/$$a-$$t.lmw $(2)/$$a-cases.lmw $(3) $$([ $$t = int8 ] && echo --quantized) \
	  || exit 1; done; done

embedded-native: deps $(EMBEDDED_BUILD)/resnet50_random.lmw $(EMBEDDED_BUILD)/golden_cases.lmw \
                 $(call zoo_lmw,$(EMBEDDED_BUILD))
	@cmake -S . -B $(EMBEDDED_BUILD) -DCMAKE_BUILD_TYPE=Release -DLMASK_EMBEDDED=ON >/dev/null
	@cmake --build $(EMBEDDED_BUILD) -j$(JOBS)
	$(EMBEDDED_BUILD)/lmask_embedded_test $(EMBEDDED_BUILD)/resnet50_random.lmw $(EMBEDDED_BUILD)/golden_cases.lmw
	@$(call zoo_embedded_runs,,$(EMBEDDED_BUILD),)
	@size -t $(EMBEDDED_BUILD)/liblmask_embedded.a | tail -1

embedded-test: embedded-native $(AARCH64_BUILD)/resnet50_random.lmw $(AARCH64_BUILD)/golden_cases.lmw \
               $(call zoo_lmw,$(AARCH64_BUILD))
	@cmake -S . -B $(AARCH64_BUILD) -DCMAKE_BUILD_TYPE=Release $(AARCH64_CMAKE) >/dev/null
	@cmake --build $(AARCH64_BUILD) -j$(JOBS)
	qemu-aarch64 -L /usr/aarch64-linux-gnu $(AARCH64_BUILD)/lmask_embedded_test \
	  $(AARCH64_BUILD)/resnet50_random.lmw $(AARCH64_BUILD)/golden_cases.lmw \
	  --images $(EMBEDDED_IMAGES) --kinds $(EMBEDDED_KINDS)
	@$(call zoo_embedded_runs,qemu-aarch64 -L /usr/aarch64-linux-gnu,$(AARCH64_BUILD),--images 1 --kinds 0)
	@aarch64-linux-gnu-size -t $(AARCH64_BUILD)/liblmask_embedded.a | tail -1
