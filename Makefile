# easbridge — build, run and test.
#   make run    install what the app needs, then start it (GUI when a display
#               is there, headless otherwise; a demo account when none is set)
#   make test   install what the tests need, then run every test
#   make soak   the fault-injection soak, SOAK_ROUNDS (1000) rounds; SOAK_SEED=n repeats a run
#   make package       a Linux package (easbridge.tar.xz) made by the fyne CLI
#   make install       binary, desktop file and icon under $(DESTDIR)$(PREFIX)
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

# Fyne's build dependencies (cgo, OpenGL, X11/Wayland).
GUI_PKGS := gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev \
	libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev libwayland-dev libxkbcommon-dev
# Real servers the integration tests start on loopback, and libwbxml's tools.
TEST_PKGS := $(GUI_PKGS) dovecot-imapd dovecot-submissiond dovecot-managesieved \
	dovecot-sieve radicale libwbxml2-utils iproute2 xvfb x11-utils

.PHONY: all build run test deps-run deps-test vet fuzz bench nogui clean package install uninstall soak

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
	CGO_ENABLED=0 $(GO) vet -tags nogui . ./app/... ./server/... ./sync/... ./ui/...

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
	$(GO) test -run='^$$' -fuzz='^FuzzCommands$$' -fuzztime=$(FUZZTIME) ./server/
	$(GO) test -run='^$$' -fuzz='^FuzzReadResponse$$' -fuzztime=$(FUZZTIME) ./sync/sieve/

# The soak (docs/RELIABILITY.md): phones, other clients and faults against
# real Dovecot and Radicale; make test runs a 20-round version of it.
SOAK_ROUNDS ?= 1000
soak: deps-test
	SOAK_ROUNDS=$(SOAK_ROUNDS) $(GO) test -count=1 -timeout 0 -run '^TestSoak$$' -v ./app/soak/

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./server/wbxml/ ./sync/state/

# The fyne CLI (fyne.io/tools), fetched and built by the go command; it
# reads FyneApp.toml (name, app ID, version, icon) and builds the binary.
FYNE ?= $(GO) run fyne.io/tools/cmd/fyne@v1.7.4
package: deps-run
	$(FYNE) package -os linux --release
	@tar -tJf easbridge.tar.xz

PREFIX ?= /usr/local
DESTDIR ?=
install: build
	install -Dm755 easbridge $(DESTDIR)$(PREFIX)/bin/easbridge
	install -Dm644 assets/easbridge.desktop $(DESTDIR)$(PREFIX)/share/applications/easbridge.desktop
	install -Dm644 assets/icon.png $(DESTDIR)$(PREFIX)/share/icons/hicolor/256x256/apps/easbridge.png

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/easbridge $(DESTDIR)$(PREFIX)/share/applications/easbridge.desktop \
		$(DESTDIR)$(PREFIX)/share/icons/hicolor/256x256/apps/easbridge.png

clean:
	rm -f easbridge easbridge-nogui easbridge.tar.xz
