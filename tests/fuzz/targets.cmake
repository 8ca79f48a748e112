# The libFuzzer targets: name, then the sources (relative to tests/fuzz) and
# compile definitions. Shared by tests/fuzz/CMakeLists.txt (the fuzz build)
# and tests/CMakeLists.txt (the smoke runs of a normal build).
# The index file loader's target joins here once host/index exists
# (fuzz_index_load: load arbitrary bytes as an index file; a clear error or a
# consistent index, never a crash).
set(papersim_fuzz_targets
  fuzz_reader_jsonl fuzz_reader_json fuzz_reader_csv fuzz_reader_tsv fuzz_reader_text
  fuzz_reader_auto fuzz_decompress fuzz_stream_guard fuzz_tfidf fuzz_cli_options)
