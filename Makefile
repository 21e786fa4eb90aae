# ipcfs - non-recursive build. Objects go to $(BUILD) (build/ by default, build/<sanitizers>/
# with SANITIZE=...), never next to the sources.
#
#   make                 build the library, the daemon and the tests
#   make test            build and run every test (installs missing dependencies first)
#   make test SANITIZE=address,undefined   the same under ASan+UBSan (likewise thread)
#   make faults          cluster mode under real faults (etcd members, daemons killed; ROUNDS=20)
#   make bench           benchmarks: ours against glibc, the kernel and FUSE itself
#   make fuzz            libFuzzer on the semaphore text parser (clang; FUZZ_SECONDS=30)
#   make install         PREFIX=/usr/local DESTDIR= (LIBDIR=$(PREFIX)/lib)
#   make deb             the Debian package build/ipcfs_VERSION_ARCH.deb (scripts/deb.sh)
#   make format / check-style

VERSION := 0.1.0
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
DESTDIR ?=
CC      ?= cc
WERROR  ?=
SANITIZE ?=

comma := ,
ifeq ($(SANITIZE),)
BUILD ?= build
else
BUILD ?= build/$(subst $(comma),-,$(SANITIZE))
endif

DEPS := fuse3 cmocka libcurl json-c
# Recursive (=) on purpose: expanded when a recipe runs, after the deps target installed them.
PKG_CFLAGS = $(shell pkg-config --cflags $(DEPS))
FUSE_LIBS  = $(shell pkg-config --libs fuse3)
# the etcd store's client (fs/store/etcd/): HTTP and JSON
STORE_LIBS = $(shell pkg-config --libs libcurl json-c)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka)

WARN   := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings \
	  $(if $(WERROR),-Werror)
OPT    := $(if $(SANITIZE),-O1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE) \
	     -fno-sanitize-recover=all,-O2)
CFLAGS_ALL = -std=gnu11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -g $(OPT) $(WARN) -pthread -Ilib/include -Ilib -Ifs \
	     -DIPCFS_VERSION='"$(VERSION)"' \
	     $(PKG_CFLAGS) -MMD -MP $(CFLAGS)
LDFLAGS_ALL = -pthread $(if $(SANITIZE),-fsanitize=$(SANITIZE)) $(LDFLAGS)

LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB     := $(BUILD)/libipc.a

# The daemon, in floors (docs/design.md): fs/fuse/ the FUSE face, fs/model/ the object model,
# fs/store/ where the state lives, fs/inspect/ the snapshot and deadlock code the daemon shares
# with ipcctl. fs/fuse/main.c plus libipcfs.a (everything else), which the unit tests link too.
FS_SRC  := $(wildcard fs/fuse/*.c fs/model/*.c fs/store/*.c fs/store/*/*.c fs/inspect/*.c)
FS_OBJ  := $(FS_SRC:%.c=$(BUILD)/%.o)
FSLIB_OBJ := $(filter-out $(BUILD)/fs/fuse/main.o,$(FS_OBJ))
FSLIB   := $(BUILD)/libipcfs.a
IPCFS   := $(BUILD)/ipcfs
# The administration command: fs/ipcctl/ with the snapshot and deadlock code it shares with
# the daemon (fs/inspect/, no FUSE), taken from libinspect.a.
INSPECT_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard fs/inspect/*.c))
INSPECTLIB  := $(BUILD)/libinspect.a
IPCCTL_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(wildcard fs/ipcctl/*.c))
IPCCTL  := $(BUILD)/ipcctl

# Unit tests: tests/test_<module>.c, one binary each.
TEST_SRC  := $(wildcard tests/test_*.c)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
# Integration tests: tests/it_*.sh mount the daemon; tests/client_*.c are C programs they drive.
IT_SH     := $(wildcard tests/it_*.sh)
CLIENT_SRC := $(wildcard tests/client_*.c)
CLIENT_BIN := $(CLIENT_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard tests/bench_*.c)
BENCH_BIN := $(BENCH_SRC:tests/%.c=$(BUILD)/tests/%)

.SECONDARY:
.PHONY: all deps test faults bench fuzz fuzz-deps install deb clean format check-style run
all: $(LIB) $(IPCFS) $(IPCCTL) $(TEST_BIN) $(CLIENT_BIN)

# Installs what is missing (scripts/install-deps.sh), once, before compiling.
deps:
	@pkg-config --exists $(DEPS) 2>/dev/null && command -v setfattr >/dev/null && \
		command -v python3 >/dev/null && command -v etcd >/dev/null && \
		command -v lintian >/dev/null && command -v tmux >/dev/null || \
		scripts/install-deps.sh

$(BUILD)/%.o: %.c Makefile | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(FSLIB): $(FSLIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(INSPECTLIB): $(INSPECT_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(IPCFS): $(BUILD)/fs/fuse/main.o $(FSLIB) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(FUSE_LIBS) $(STORE_LIBS)

$(IPCCTL): $(IPCCTL_OBJ) $(INSPECTLIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(FSLIB) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(FUSE_LIBS) $(STORE_LIBS) $(CMOCKA_LIBS) -lrt

test: all
	@tests/run.sh $(BUILD) $(TEST_BIN) $(IT_SH)

# bench_lib (libipc against glibc), then scripts/bench.sh: the daemon against the FUSE floor
# (tests/bench_nullfs), the kernel and shell tools (tests/bench_ops), one table and one plot;
# then scripts/bench_cluster.sh: two mounts of a cluster against etcdctl, on a 3-member etcd.
# Cluster mode under real faults (etcd members and daemons killed), ROUNDS times (default 20):
# minutes, so not part of make test; .ci/run runs it.
faults: all
	@tests/run.sh $(BUILD) tests/faults_cluster.sh

bench: $(BENCH_BIN) $(IPCFS) $(CLIENT_BIN)
	@$(BUILD)/tests/bench_lib
	@scripts/bench.sh $(BUILD)
	@scripts/bench_cluster.sh $(BUILD)

# libFuzzer with ASan+UBSan on the parser of the text written to semaphore files. Built by
# clang from the sources (not from the $(CC) objects); the corpus grows in $(BUILD)/fuzz/corpus
# from a few seeds, and a crashing input is saved as $(BUILD)/fuzz/crash-<sha1>.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SEMTEXT := $(FUZZ_DIR)/fuzz_semtext

$(FUZZ_SEMTEXT): tests/fuzz_semtext.c fs/model/semtext.c fs/model/semtext.h Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -fno-omit-frame-pointer $(WARN) -Ifs \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ tests/fuzz_semtext.c fs/model/semtext.c

fuzz-deps:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || scripts/install-deps.sh --fuzz

$(FUZZ_SEMTEXT): | fuzz-deps

fuzz: $(FUZZ_SEMTEXT)
	@mkdir -p $(FUZZ_DIR)/corpus
	@cd $(FUZZ_DIR)/corpus && printf '' >empty && printf ' \n' >space && printf '1' >one && \
		printf '+42\n' >plus && printf '\t-3\n' >minus && printf '0' >zero && \
		printf '00' >zeros && printf -- '-0' >minus-zero && printf '2147483647' >max && \
		printf '2147483648' >max-plus-1 && printf '99999999999999999999' >huge && \
		printf '1 2' >two && printf '0x10' >hex && printf '1\0' >nul
	$(FUZZ_SEMTEXT) -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(FUZZ_DIR)/ \
		$(FUZZ_DIR)/corpus

install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(PREFIX)/include/ipc
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		scripts/package/ipc.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/ipc.pc
	install -m 644 lib/include/ipc/*.h $(DESTDIR)$(PREFIX)/include/ipc/
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(IPCFS) $(IPCCTL) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 docs/ipcfs.1 docs/ipcctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/

deb: all
	@scripts/deb.sh $(BUILD) $(VERSION)

clean:
	rm -rf build

FORMAT_SRC = $(wildcard lib/*.c lib/*.h lib/include/ipc/*.h fs/*.h fs/*/*.c fs/*/*.h fs/*/*/*.c fs/*/*/*.h \
			 tests/*.c tests/*.h)
format:
	clang-format -i $(FORMAT_SRC)

check-style:
	clang-format --dry-run --Werror $(FORMAT_SRC)

-include $(LIB_OBJ:.o=.d) $(FS_OBJ:.o=.d) $(IPCCTL_OBJ:.o=.d) $(TEST_BIN:=.d) $(BENCH_BIN:=.d) $(CLIENT_BIN:=.d)

# Build, mount at the default mount point in the background, and say what to try.
MOUNTPOINT ?= $(shell sed -n 's/^\#define IPCFS_DEFAULT_MOUNTPOINT "\(.*\)"/\1/p' fs/defaults.h)
run: all
	@mkdir -p $(MOUNTPOINT)
	@if grep -q " $(MOUNTPOINT) fuse" /proc/mounts; then \
		echo "ipcfs: already mounted at $(MOUNTPOINT)"; \
	else \
		$(IPCFS) $(MOUNTPOINT) && echo "ipcfs mounted at $(MOUNTPOINT)"; \
	fi
	@echo "try:  cd $(MOUNTPOINT); echo 3 > sem/pool; cat sem/pool; ls -l sem"
	@echo "      touch mutex/m; exec 9<mutex/m  (lock)   exec 9<&-  (unlock)"
	@echo "      echo hi > fifo/f; cat fifo/f;  echo msg > mq/q; cat mq/q"
	@echo "stop: fusermount3 -u $(MOUNTPOINT)"
