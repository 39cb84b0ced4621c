# newstag - tags Vietnamese political news by topic.
#
#   make              build into build/
#   make test         install missing Debian packages (as root), then run every
#                     test: plain, then again under ASan+UBSan
#   make demo         classify sample items with the shipped model
#   make model        retrain model/default from training/corpus
#   make install      PREFIX=/usr/local DESTDIR=
#   make bench        speed and accuracy benchmarks

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share/newstag
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=

VERSION := $(shell sed -n 's/^\#define NEWSTAG_VERSION "\(.*\)"/\1/p' include/newstag.h)
PKGS    := fann libutf8proc jansson nettle
CC      ?= cc
BUILD   ?= build
OPT     ?= -O3 -g
CFLAGS  ?= $(OPT)
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -fPIC -Iinclude -I$(BUILD)/gen $(PKG_CFLAGS) \
              -DNEWSTAG_DATADIR='"$(DATADIR)"' $(CFLAGS)
LIBS    := $(PKG_LIBS) -lm -lpthread

LIB_SRC := model/errors.c model/hash.c model/normalize.c model/features.c \
           model/network.c model/windows.c model/modelfile.c model/image.c model/model.c \
           training/dataset.c training/evaluate.c training/epoch.c training/average.c training/vocabulary.c \
           training/train.c
CLI_SRC := plugin/main.c plugin/filter.c plugin/cmd_classify.c \
           plugin/cmd_train.c plugin/cmd_eval.c plugin/report.c plugin/scores.c \
           plugin/tune.c plugin/cmd_info.c \
           plugin/mail.c plugin/cmd_mail.c plugin/cmd_compare.c plugin/cmd_install.c \
           plugin/mailbox.c plugin/train_mail.c
PLUGIN_SRC := plugin/plugin.c plugin/filter.c
TEST_NAMES ?= test_normalize test_model test_cli test_plugin test_mail test_train test_retrain \
              test_report test_lifecycle test_corpus

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TESTS   := $(TEST_NAMES:%=$(BUILD)/tests/%)

.PHONY: all deps test check test-plain test-asan test-tsan test-valgrind fuzz demo model install uninstall clean bench

all: $(BUILD)/libnewstag.a $(BUILD)/libnewstag.so $(BUILD)/newstag \
     $(BUILD)/newstag_filter.so $(BUILD)/plugin-host

$(BUILD)/obj/%.o: %.c include/newstag.h model/internal.h $(wildcard training/*.h plugin/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# utf8proc's answers for the code points Vietnamese uses, as tables.
$(BUILD)/gen/chartab.inc: model/gen_chartab.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 $(PKG_CFLAGS) -o $(BUILD)/gen/gen_chartab $< $(PKG_LIBS)
	$(BUILD)/gen/gen_chartab > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/model/normalize.o: $(BUILD)/gen/chartab.inc

$(BUILD)/libnewstag.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libnewstag.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libnewstag.so.0 $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/newstag: $(CLI_OBJ) $(BUILD)/libnewstag.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libnewstag.a $(LIBS)

# The plugin exports newstag_plugin_entry and nothing else (version script).
$(BUILD)/newstag_filter.so: $(PLUGIN_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/libnewstag.a plugin/newstag_filter.map
	$(CC) -shared $(CFLAGS) -Wl,--version-script=plugin/newstag_filter.map -o $@ \
	    $(PLUGIN_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/libnewstag.a $(LIBS) -lpthread

$(BUILD)/plugin-host: plugin/examples/host.c include/newstag_plugin.h
	$(CC) $(ALL_CFLAGS) -o $@ $< -ldl

$(BUILD)/tests/test_plugin: tests/test_plugin.c tests/testutil.h include/newstag_plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBS) -lcmocka -ldl -lpthread

# test_retrain also reads mail folders itself (the mailbox reader).
$(BUILD)/tests/test_retrain: tests/test_retrain.c tests/testutil.h $(BUILD)/libnewstag.a \
                             $(BUILD)/obj/plugin/filter.o $(BUILD)/obj/plugin/mailbox.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Imodel -Itraining -Iplugin -o $@ $< $(BUILD)/obj/plugin/mailbox.o \
	    $(BUILD)/obj/plugin/filter.o $(BUILD)/libnewstag.a $(LIBS) -lcmocka

$(BUILD)/tests/%: tests/%.c tests/testutil.h $(BUILD)/libnewstag.a $(BUILD)/obj/plugin/filter.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Imodel -Itraining -Iplugin -o $@ $< \
	    $(BUILD)/obj/plugin/filter.o $(BUILD)/libnewstag.a $(LIBS) -lcmocka

deps:
	@sh scripts/install-deps

# The whole suite: plain, the CLI under valgrind, under AddressSanitizer +
# UBSan, the plugin under ThreadSanitizer, then every libFuzzer harness for
# TEST_FUZZ_SECONDS each (from its seeds; a crash fails the suite).
TEST_FUZZ_SECONDS ?= 15
test: deps
	$(MAKE) test-plain
	$(MAKE) test-valgrind
	$(MAKE) test-asan
	$(MAKE) test-tsan
	$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)
	@cat build/test-summary build/valgrind-summary build/asan/test-summary build/tsan/test-summary | \
	    awk '{p+=$$1; f+=$$2} END {print "tests: " p " passed, " f " failed"; exit f > 0}' 

check: test

test-plain: all $(TESTS)
	@sh tests/run-tests $(BUILD)

test-asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" test-plain

# The command's paths under valgrind memcheck (plain build).
test-valgrind: all
	@sh tests/valgrind-cli.sh $(BUILD)

# The plugin's threads under ThreadSanitizer.
test-tsan:
	$(MAKE) BUILD=build/tsan OPT="-O1 -g -fsanitize=thread" TEST_NAMES=test_plugin test-plain

# deps first, then a fresh make: pkg-config can only answer once the
# packages are there.
demo: deps
	@$(MAKE) --no-print-directory all > /dev/null
	@echo "== classifying docs/examples/news.jsonl with the shipped model"
	./$(BUILD)/newstag classify -m model/default < docs/examples/news.jsonl

# Retrain the shipped model from the corpus (deterministic).
# The shipped recipe (docs/features.md, "Weight decay", "24,000 features,
# 3 hidden neurons" and "Averaging the last epochs"): decay 1e-7; 24,000
# features with 3 hidden neurons; half the items trained without
# diacritics instead of a copy of each, so an epoch costs half and 32 of
# them keep `make model` under 60 s on 2 cores; the model written is the
# mean of the best epoch and the three before it.
model: all
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct -- training/corpus 2>/dev/null || echo 0) \
	./$(BUILD)/newstag train -o model/default --seed 1 --decay 1e-7 --epochs 32 \
	    --features 24000 --hidden 3 --accent-free-share 0.5 --average 4 \
	    $(addprefix --dev ,$(wildcard training/corpus/dev*.jsonl)) \
	    $(filter-out $(wildcard training/corpus/dev*.jsonl),$(wildcard training/corpus/*.jsonl))
	./$(BUILD)/newstag info -m model/default | sed -n '/dev_metrics/,$$p'

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR) \
	    $(DESTDIR)$(DATADIR)/default $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BUILD)/newstag $(DESTDIR)$(BINDIR)/newstag
	install -m 644 $(BUILD)/libnewstag.a $(DESTDIR)$(LIBDIR)/libnewstag.a
	install -m 755 $(BUILD)/libnewstag.so $(DESTDIR)$(LIBDIR)/libnewstag.so.$(VERSION)
	ln -sf libnewstag.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnewstag.so.0
	ln -sf libnewstag.so.0 $(DESTDIR)$(LIBDIR)/libnewstag.so
	install -m 644 include/newstag.h include/newstag_plugin.h $(DESTDIR)$(INCDIR)/
	install -d $(DESTDIR)$(LIBDIR)/newstag
	install -m 755 $(BUILD)/newstag_filter.so $(DESTDIR)$(LIBDIR)/newstag/newstag_filter.so
	./$(BUILD)/newstag info -m model/default > /dev/null   # makes network.bin
	install -p -m 644 model/default/manifest.json model/default/features.tsv \
	    model/default/network.net model/default/network.bin $(DESTDIR)$(DATADIR)/default/
	install -m 644 docs/newstag.1 $(DESTDIR)$(MANDIR)/man1/newstag.1
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' newstag.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/newstag.pc

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/newstag $(DESTDIR)$(LIBDIR)/libnewstag.* \
	    $(DESTDIR)$(LIBDIR)/pkgconfig/newstag.pc $(DESTDIR)$(INCDIR)/newstag.h \
	    $(DESTDIR)$(INCDIR)/newstag_plugin.h $(DESTDIR)$(LIBDIR)/newstag/newstag_filter.so \
	    $(DESTDIR)$(MANDIR)/man1/newstag.1
	rm -rf $(DESTDIR)$(DATADIR)

bench: all
	bench/accuracy

# libFuzzer harnesses (clang): each runs FUZZ_SECONDS from its seed corpus.
FUZZERS := normalize classify mail manifest mailbox dataset
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -I$(BUILD)/gen $(PKG_CFLAGS) \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_SRC := $(LIB_SRC) plugin/filter.c plugin/mail.c plugin/mailbox.c

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/memfile.h $(FUZZ_SRC) $(BUILD)/gen/chartab.inc
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRC) $(LIBS)

fuzz: $(FUZZERS:%=$(BUILD)/fuzz/fuzz_%)
	@for f in $(FUZZERS); do \
	    mkdir -p $(BUILD)/fuzz/found-$$f; \
	    echo "== fuzz_$$f for $(FUZZ_SECONDS)s"; \
	    $(BUILD)/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	        -rss_limit_mb=2048 -artifact_prefix=$(BUILD)/fuzz/found-$$f/ \
	        $(BUILD)/fuzz/found-$$f tests/fuzz/seeds-$$f > $(BUILD)/fuzz/$$f.log 2>&1; \
	    status=$$?; \
	    grep -E '^(Done [0-9]+ runs|==[0-9]+==ERROR|SUMMARY)' $(BUILD)/fuzz/$$f.log; \
	    [ $$status -eq 0 ] || { echo "fuzz_$$f failed; see $(BUILD)/fuzz/$$f.log"; exit 1; }; \
	done

clean:
	rm -rf build
