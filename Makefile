# ipcfs - non-recursive build. Objects go to $(BUILD) (build/ by default, build/<sanitizers>/
# with SANITIZE=...), never next to the sources.
#
#   make                 build the library, the daemon and the tests
#   make test            build and run every test (installs missing dependencies first)
#   make test SANITIZE=address,undefined   the same under ASan+UBSan (likewise thread)
#   make bench           benchmarks: ours against glibc, the kernel and FUSE itself
#   make install         PREFIX=/usr/local DESTDIR=
#   make format / check-style

PREFIX  ?= /usr/local
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

DEPS := fuse3 cmocka
# Recursive (=) on purpose: expanded when a recipe runs, after the deps target installed them.
PKG_CFLAGS = $(shell pkg-config --cflags $(DEPS))
FUSE_LIBS  = $(shell pkg-config --libs fuse3)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka)

WARN   := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings \
	  $(if $(WERROR),-Werror)
OPT    := $(if $(SANITIZE),-O1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE) \
	     -fno-sanitize-recover=all,-O2)
CFLAGS_ALL = -std=gnu11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -g $(OPT) $(WARN) -pthread -Ilib/include -Ilib \
	     $(PKG_CFLAGS) -MMD -MP $(CFLAGS)
LDFLAGS_ALL = -pthread $(if $(SANITIZE),-fsanitize=$(SANITIZE)) $(LDFLAGS)

LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB     := $(BUILD)/libipc.a

FS_SRC  := $(wildcard fs/*.c)
FS_OBJ  := $(FS_SRC:%.c=$(BUILD)/%.o)
IPCFS   := $(if $(FS_SRC),$(BUILD)/ipcfs)

# Unit tests: tests/test_<module>.c, one binary each.
TEST_SRC  := $(wildcard tests/test_*.c)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard tests/bench_*.c)
BENCH_BIN := $(BENCH_SRC:tests/%.c=$(BUILD)/tests/%)

.SECONDARY:
.PHONY: all deps test unit-test bench install clean format check-style
all: $(LIB) $(IPCFS) $(TEST_BIN)

# Installs what pkg-config cannot find (scripts/install-deps.sh), once, before compiling.
deps:
	@pkg-config --exists $(DEPS) 2>/dev/null || scripts/install-deps.sh

$(BUILD)/%.o: %.c Makefile | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/ipcfs: $(FS_OBJ) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(FUSE_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CMOCKA_LIBS) -lrt

test: all
	@tests/run.sh $(BUILD) $(TEST_BIN)

bench: $(BENCH_BIN)
	@for b in $(BENCH_BIN); do $$b || exit 1; done

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/ipc
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 lib/include/ipc/*.h $(DESTDIR)$(PREFIX)/include/ipc/
	$(if $(IPCFS),install -d $(DESTDIR)$(PREFIX)/bin && \
		install -m 755 $(IPCFS) $(DESTDIR)$(PREFIX)/bin/)

clean:
	rm -rf build

FORMAT_SRC = $(wildcard lib/*.c lib/*.h lib/include/ipc/*.h fs/*.c fs/*.h tests/*.c tests/*.h)
format:
	clang-format -i $(FORMAT_SRC)

check-style:
	clang-format --dry-run --Werror $(FORMAT_SRC)

-include $(LIB_OBJ:.o=.d) $(FS_OBJ:.o=.d) $(TEST_BIN:=.d) $(BENCH_BIN:=.d)
