# Makefile of the @GRAPH@ graph (written by `sofiia-ctl new-graph @GRAPH@`).
#   make           build @GRAPH@.so
#   make check     build and run its unit test on the SDK's test kit
#   make install   copy @GRAPH@.so into PLUGIN_DIR (default: the SDK's plugindir;
#                  `make install PLUGIN_DIR=/srv/plugins`), as the daemon wants:
#                  a temporary name, then a rename
# Everything comes from pkg-config (sofiia-sdk, sofiia-sdk-test): point
# PKG_CONFIG_PATH (and PKG_CONFIG_SYSROOT_DIR for a DESTDIR tree) at the
# installed SDK if it is not in the default places.
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
WARNINGS = -std=c11 -Wall -Wextra -Werror

ifneq ($(shell $(PKG_CONFIG) --exists sofiia-sdk sofiia-sdk-test && echo ok),ok)
$(error pkg-config finds no sofiia-sdk/sofiia-sdk-test: install sofiia-supervisor, or set PKG_CONFIG_PATH)
endif
SDK_CFLAGS := $(shell $(PKG_CONFIG) --cflags sofiia-sdk)
SDK_LIBS := $(shell $(PKG_CONFIG) --libs sofiia-sdk)
KIT_CFLAGS := $(shell $(PKG_CONFIG) --cflags sofiia-sdk-test)
KIT_LIBS := $(shell $(PKG_CONFIG) --libs sofiia-sdk-test)
PLUGIN_DIR ?= $(shell $(PKG_CONFIG) --variable=plugindir sofiia-sdk)

all: @GRAPH@.so

# Only the descriptor is exported; -Wl,--no-undefined turns a missing
# library into a link error here rather than a refusal at load time.
@GRAPH@.so: @GRAPH@.c
	$(CC) $(WARNINGS) $(CFLAGS) -shared -fPIC -fvisibility=hidden $(SDK_CFLAGS) $< -o $@ \
		$(SDK_LIBS) -Wl,--no-undefined

test_@GRAPH@: test_@GRAPH@.c
	$(CC) $(WARNINGS) $(CFLAGS) $(KIT_CFLAGS) $< -o $@ $(KIT_LIBS)

check: @GRAPH@.so test_@GRAPH@
	./test_@GRAPH@

install: @GRAPH@.so
	cp @GRAPH@.so $(PLUGIN_DIR)/.@GRAPH@.so.tmp
	chmod 0644 $(PLUGIN_DIR)/.@GRAPH@.so.tmp
	mv $(PLUGIN_DIR)/.@GRAPH@.so.tmp $(PLUGIN_DIR)/@GRAPH@.so

clean:
	rm -f @GRAPH@.so test_@GRAPH@

.PHONY: all check install clean
