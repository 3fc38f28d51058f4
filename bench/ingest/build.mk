# Builds the ingest benchmark's two C drivers against the release objects,
# with the main Makefile's flags and libraries (it is included whole):
#
#   make -f bench/ingest/build.mk build/release/bench/importbench build/release/bench/csvbench
#
# bench/ingest/run calls it after `make release`.
include Makefile

$(BUILD)/bench/importbench: bench/ingest/importbench.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB_OBJ) $(LDFLAGS_ALL) $(LDLIBS_ALL)

$(BUILD)/bench/csvbench: bench/ingest/csvbench.c src/ingest/csv.c src/base/alloc.c src/base/error.c
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDFLAGS_ALL)
