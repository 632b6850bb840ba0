# Shortcuts for the scripts under hack/, which do the work (and install what they need).
.PHONY: build test demo image bench schema

build:
	go build -o bin/swarmgate ./cmd/swarmgate

test:
	hack/test.sh

demo:
	hack/demo.sh

image:
	hack/image.sh

bench:
	hack/bench.sh

schema:
	go run ./hack/schemagen
