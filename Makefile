# deb2fs — see README.md.
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: build test bench demo clean

build:
	$(GO) build -o bin/deb2fs ./cmd/deb2fs

test:
	scripts/test.sh

bench: build
	scripts/bench.sh

demo:
	scripts/demo.sh

clean:
	rm -rf bin
