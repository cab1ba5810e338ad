# easbridge — build, run and test.
#   make run    install what the app needs, then start it (GUI when a display
#               is there, headless otherwise; a demo account when none is set)
#   make test   install what the tests need, then run every test
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

# Fyne's build dependencies (cgo, OpenGL, X11/Wayland).
GUI_PKGS := gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev \
	libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev libwayland-dev libxkbcommon-dev
# Real servers the integration tests start on loopback, and libwbxml's tools.
TEST_PKGS := $(GUI_PKGS) dovecot-imapd dovecot-submissiond dovecot-managesieved \
	dovecot-sieve radicale libwbxml2-utils iproute2 xvfb x11-utils

.PHONY: all build run test deps-run deps-test vet fuzz bench nogui clean

all: build

deps-run:
	@bash .ci/deps.sh $(GUI_PKGS)

deps-test:
	@bash .ci/deps.sh $(TEST_PKGS)

build: deps-run
	$(GO) build -o easbridge .

nogui:
	CGO_ENABLED=0 $(GO) build -tags nogui -o easbridge-nogui .

run: build
	./easbridge $(ARGS)

vet:
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet -tags nogui . ./app/... ./server/... ./sync/...

test: deps-test
	@gofmt -l . | (! grep .) || (echo "gofmt: files above need formatting" >&2; exit 1)
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build -tags nogui -o /dev/null .
	$(GO) test -count=1 -timeout 14m ./...

# Each fuzz target for FUZZTIME (default 60s), one after another.
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./server/wbxml/
	$(GO) test -run='^$$' -fuzz='^FuzzXMLRoundTrip$$' -fuzztime=$(FUZZTIME) ./server/wbxml/

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./server/wbxml/ ./sync/state/

clean:
	rm -f easbridge easbridge-nogui
