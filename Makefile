# lmask — the two commands a new user needs:
#   make run    install what is missing, build, classify the images in data/
#   make test   install what is missing, build, run every test
BUILD   ?= build
JOBS    ?= $(shell nproc)
PYTHON  := /usr/bin/python3
LMASK   := $(BUILD)/lmask
# The shipped model when present, else an untrained one made by the converter.
WEIGHTS ?= $(firstword $(wildcard weights/resnet50_fmnist.h5) weights/resnet50_random.h5)

.PHONY: all deps build run test bench clean

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

test: build
	cd $(BUILD) && ctest --output-on-failure -j2

bench: build $(WEIGHTS)
	$(LMASK) bench --weights $(WEIGHTS) --batch 1 --iters 20
	$(LMASK) bench --weights $(WEIGHTS) --batch 8 --iters 5
	$(PYTHON) tools/bench_torch.py --arch resnet50 --batch 1 --iters 20
	$(PYTHON) tools/bench_torch.py --arch resnet50 --batch 8 --iters 5

clean:
	rm -rf $(BUILD)
