# The one build entry point.  Plain GNU make (Redis style): objects go to
# $(O)/, V=1 shows commands, SANITIZE=address,undefined adds sanitizers,
# WERROR=0 is the escape hatch for other compilers.

O        ?= build
CC       ?= cc
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR  ?= $(PREFIX)/lib/systemd/system
DOCDIR   ?= $(PREFIX)/share/doc/grafolean-bots
WERROR   ?= 1
SANITIZE ?=
PYTHON   ?= python3
FUZZ_TIME ?= 20
# Each target stops after FUZZ_RUNS inputs or FUZZ_TIME seconds, whichever
# comes first (the test matrix's F1: -runs=1000000 -max_total_time=...).
FUZZ_RUNS ?= 1000000
# Fuzz targets run at once (scripts/fuzz_run.sh); default: the CPU count.
FUZZ_JOBS ?= $(shell nproc 2>/dev/null || echo 1)

VERSION := 0.1.0
BOTS_ALL := pingbot snmpbot netflowbot apibot
# A bot directory joins the build once it has a main.c.
BOTS := $(foreach b,$(BOTS_ALL),$(if $(wildcard $(b)/main.c),$(b)))

PKG_CFLAGS := $(shell pkg-config --cflags libcurl json-c libmicrohttpd 2>/dev/null)
# libmicrohttpd is not linked: common/mhdlib.c opens it by its soname when
# the Prometheus endpoint starts (see mhdlib.h).
PKG_LIBS   := $(shell pkg-config --libs libcurl json-c 2>/dev/null) -ldl
MHD_SONAME := $(shell objdump -p "$$(pkg-config --variable=libdir libmicrohttpd \
	2>/dev/null)/libmicrohttpd.so" 2>/dev/null | awk '$$1 == "SONAME" { print $$2 }')
ifneq ($(MHD_SONAME),)
PKG_CFLAGS += -DMHDLIB_SONAME='"$(MHD_SONAME)"'
endif

WARN := -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-qual \
	-Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	-Wformat=2 -Wsign-compare -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif

CFLAGS ?= -g -O2
ALL_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -DBOT_VERSION='"$(VERSION)"' \
	$(WARN) $(CFLAGS) -Icommon $(PKG_CFLAGS) -MMD -MP -pthread
ALL_LDFLAGS := $(LDFLAGS) -pthread
ifneq ($(SANITIZE),)
ALL_CFLAGS  += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
else
ALL_CFLAGS  += -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
ALL_LDFLAGS += -pie -Wl,-z,relro,-z,now
endif

# Libraries each bot links besides common (also its unit tests and fuzz
# targets).
pingbot_LIBS    := -loping -lcap -lpthread -lm
snmpbot_LIBS    := $(shell net-snmp-config --netsnmp-libs 2>/dev/null) -lm
netflowbot_LIBS := -lpcap -lm
apibot_LIBS     := -ljq -lm

# Capabilities a bot's systemd unit grants (empty: none), and socket
# families beyond AF_INET AF_INET6 AF_UNIX AF_NETLINK (e.g. AF_PACKET).
pingbot_CAPS    := CAP_NET_RAW

ifeq ($(V),1)
Q :=
else
Q := @
endif

COMMON_SRC := $(sort $(wildcard common/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(O)/obj/%.o)
LIB        := $(O)/libbotcommon.a

# Every bot's objects except main.o, so unit tests can link them.
bot_src  = $(sort $(filter-out $(1)/main.c,$(wildcard $(1)/*.c)))
bot_objs = $(patsubst %.c,$(O)/obj/%.o,$(call bot_src,$(1)))

# Unit tests: one binary for common/ (tests/unit/t_*.c) and one per bot
# (tests/unit/<bot>/t_*.c linked with that bot's objects and libraries
# only), each closing with "N passed, N failed".  t_main.c (the runner)
# and t_srv.c (a forked HTTP server) serve every binary.
UNIT_SUPPORT := tests/unit/t_main.c tests/unit/t_srv.c
UNIT_SRC := $(filter-out $(UNIT_SUPPORT),$(sort $(wildcard tests/unit/t_*.c)))
UNIT_OBJ := $(UNIT_SRC:%.c=$(O)/obj/%.o)
UNIT_SUPPORT_OBJ := $(UNIT_SUPPORT:%.c=$(O)/obj/%.o)
UNIT_BOTS := $(foreach b,$(BOTS_ALL),$(if $(wildcard tests/unit/$(b)/t_*.c),$(b)))
UNIT_BIN := $(O)/tests/unit_common $(UNIT_BOTS:%=$(O)/tests/unit_%)

TOOL_BIN := $(O)/tests/testbot

.PHONY: all test check unit integration demo deps asan valgrind fuzz \
	fuzz-build bench lint format install clean hdrcheck check-banned \
	container-test

all: $(LIB) $(BOTS:%=$(O)/%)

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(COMMON_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

define bot_rule
$(O)/$(1): $(O)/obj/$(1)/main.o $(call bot_objs,$(1)) $(LIB)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $(PKG_LIBS) $$($(1)_LIBS)
endef
$(foreach b,$(BOTS),$(eval $(call bot_rule,$(b))))

$(O)/tests/unit_common: $(UNIT_OBJ) $(UNIT_SUPPORT_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

define unit_rule
$(O)/tests/unit_$(1): $(patsubst %.c,$(O)/obj/%.o,$(sort $(wildcard tests/unit/$(1)/t_*.c))) $(UNIT_SUPPORT_OBJ) $(call bot_objs,$(1)) $(LIB)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $(PKG_LIBS) $$($(1)_LIBS) -lm
endef
$(foreach b,$(UNIT_BOTS),$(eval $(call unit_rule,$(b))))

$(TOOL_BIN): $(O)/obj/tests/integration/testbot.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

deps:
	@sh scripts/deps.sh

test check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) integration

unit: $(UNIT_BIN)
	@for t in $(UNIT_BIN); do echo "== $$t"; $$t || exit 1; done

integration: all $(TOOL_BIN)
	$(PYTHON) -m unittest discover -s tests/fake -p 'test_*.py'
	BUILD_DIR=$(abspath $(O)) $(PYTHON) tests/integration/run.py

demo: deps all
	@sh scripts/demo.sh $(O)

# Instrumented bots run about three times slower: fewer integration tests
# share the CPU than in `make test`, so the tests' timing bounds (a retry
# within 2.5 s of the time asked for, no 3 s without a value PUT) hold.
ASAN_INTEGRATION_JOBS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))

asan: deps
	$(MAKE) O=build-asan SANITIZE=address,undefined CFLAGS='-g -O1' unit
	INTEGRATION_JOBS=$${INTEGRATION_JOBS:-$(ASAN_INTEGRATION_JOBS)} \
		$(MAKE) O=build-asan SANITIZE=address,undefined \
		CFLAGS='-g -O1' integration

valgrind: deps $(UNIT_BIN)
	@for t in $(UNIT_BIN); do echo "== valgrind $$t"; \
		valgrind --quiet --leak-check=full --error-exitcode=1 $$t || exit 1; \
	done

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))
FUZZ_FLAGS := -g -O1 -std=c11 -D_DEFAULT_SOURCE -DBOT_VERSION='"fuzz"' \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Icommon $(PKG_CFLAGS)

# Each source is compiled once for every target (build-fuzz/obj/), then
# each target links the objects its header lines ask for.
FUZZ_OBJ = $(patsubst %.c,build-fuzz/obj/%.o,$(1) \
	$(filter-out $(shell sed -n 's,^// fuzz-exclude: ,,p' $(1)),$(COMMON_SRC)) \
	$(wildcard $(shell sed -n 's,^// fuzz-sources: ,,p' $(1))))

.PRECIOUS: build-fuzz/obj/%.o
build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC fuzz $<")
	$(Q)clang $(FUZZ_FLAGS) -MMD -MP -c -o $@ $<

.SECONDEXPANSION:
build-fuzz/fuzz_%: $$(call FUZZ_OBJ,tests/fuzz/fuzz_$$*.c)
	@$(if $(Q),echo "  LD fuzz $@")
	$(Q)clang $(FUZZ_FLAGS) -o $@ $^ \
		$(PKG_LIBS) $(shell sed -n 's,^// fuzz-libs: ,,p' tests/fuzz/fuzz_$*.c) -lm

fuzz-build: deps $(FUZZ_BIN)

fuzz: fuzz-build
	@FUZZ_TIME=$(FUZZ_TIME) FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_JOBS=$(FUZZ_JOBS) \
		bash scripts/fuzz_run.sh $(FUZZ_BIN)

BENCH_SRC := $(sort $(wildcard tests/bench/bench_*.c))
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(O)/tests/%)

$(O)/tests/bench_%: $(O)/obj/tests/bench/bench_%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

BENCH_DEPS := fping collectd-core libyajl2 curl jq

bench: deps all $(BENCH_BIN)
	@DEPS_PACKAGES="$(BENCH_DEPS)" sh scripts/deps.sh
	@sh scripts/bench.sh $(O)

# One per bot with a comparison script (a static pattern rule: phony
# targets never match implicit ones).
BENCH_BOTS := $(patsubst scripts/bench_%.sh,bench-%,$(wildcard scripts/bench_*.sh))
.PHONY: $(BENCH_BOTS)
$(BENCH_BOTS): bench-%: deps all
	@DEPS_PACKAGES="$(BENCH_DEPS)" sh scripts/deps.sh
	@sh scripts/bench_$*.sh $(O)

SRC_ALL = $(wildcard common/*.[ch] $(addsuffix /*.[ch],$(BOTS_ALL)) \
	tests/unit/*.[ch] tests/unit/*/*.[ch] tests/fuzz/*.c tests/integration/*.c \
	tests/bench/*.c)

lint: check-banned hdrcheck
	clang-format --dry-run --Werror $(SRC_ALL)
	cppcheck --quiet --error-exitcode=1 --inline-suppr \
		--enable=warning,portability,performance \
		--suppress=missingIncludeSystem -Icommon \
		-D__GNUC__ -DBOT_VERSION='"lint"' common $(BOTS)

check-banned:
	@! grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|gets|atoi|atol|atof)[[:space:]]*\(' \
		$(SRC_ALL) || { echo "banned function used" >&2; exit 1; }

hdrcheck:
	@for h in $(wildcard common/*.h $(addsuffix /*.h,$(BOTS))); do \
		echo "#include \"$$h\"" | $(CC) $(ALL_CFLAGS) -MMD -MF /dev/null \
		  -x c -fsyntax-only - || exit 1; \
	done

format:
	clang-format -i $(SRC_ALL)

# Binaries, one systemd template unit per bot (grafolean-<bot>@.service,
# from deploy/systemd/grafolean-bot@.service.in) and an example environment
# file per bot (deploy/env/<bot>.env, else the generic deploy/env/bot.env).  No setcap here: the units grant
# capabilities (AmbientCapabilities); run `setcap cap_net_raw=p` on pingbot
# yourself to start it by hand as another user.
UNIT_SED = -e 's|@BOT@|$(1)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
	-e 's|@CAPS@|$($(1)_CAPS)|g' \
	-e 's|@FAMILIES@|$(if $($(1)_FAMILIES), $($(1)_FAMILIES))|g'

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/grafolean-bots $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BOTS:%=$(O)/%) $(DESTDIR)$(BINDIR)
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	$(foreach b,$(BOTS),sed $(call UNIT_SED,$(b)) \
		deploy/systemd/grafolean-bot@.service.in \
		>$(DESTDIR)$(UNITDIR)/grafolean-$(b)@.service && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/grafolean-$(b)@.service && \
	sed $(call UNIT_SED,$(b)) \
		$(firstword $(wildcard deploy/env/$(b).env) deploy/env/bot.env) \
		>$(DESTDIR)$(SYSCONFDIR)/grafolean-bots/$(b).env.example && \
		chmod 0600 $(DESTDIR)$(SYSCONFDIR)/grafolean-bots/$(b).env.example && ) true

# Real containers: builds the debian:12-slim base (debootstrap, once), one
# image per bot, runs them against the fake backend, validates the compose
# files, `make install DESTDIR=`, the systemd units.  Starts dockerd when
# none runs (and stops it after).
CONTAINER_DEPS := docker.io docker-compose debootstrap

container-test: all
	@DEPS_PACKAGES="$(CONTAINER_DEPS)" sh scripts/deps.sh
	@BOTS="$(BOTS)" PYTHON="$(PYTHON)" sh scripts/container_test.sh

clean:
	rm -rf build build-*

-include $(shell find $(O) build-fuzz/obj -name '*.d' 2>/dev/null)
