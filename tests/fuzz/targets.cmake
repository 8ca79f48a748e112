# The libFuzzer targets: name, then the sources (relative to tests/fuzz) and
# compile definitions. Shared by tests/fuzz/CMakeLists.txt (the fuzz build)
# and tests/CMakeLists.txt (the smoke runs of a normal build).
set(papersim_fuzz_targets
  fuzz_reader_jsonl fuzz_reader_json fuzz_reader_csv fuzz_reader_tsv fuzz_reader_text
  fuzz_reader_auto fuzz_decompress fuzz_stream_guard fuzz_tfidf fuzz_cli_options
  fuzz_index_load)
