// The shared real corpora: the five seed pages (both plain-text layouts) and
// the arXiv daily listings. Skips when PAPERSIM_DATA_DIR is absent.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "papersim/reader.hpp"

namespace papersim {
namespace {

std::string data_dir() {
  const char* d = std::getenv("PAPERSIM_DATA_DIR");
  struct stat st {};
  if (!d || !*d || stat(d, &st) != 0) return "";
  return d;
}

std::vector<std::string> seed_files(const std::string& dir) {
  // The seed file names carry content hashes: list them rather than hard-code.
  std::vector<std::string> files;
  const std::string seeds = dir + "/seeds";
  if (DIR* d = opendir(seeds.c_str())) {
    while (const dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() > 4 && name.compare(name.size() - 4, 4, ".txt") == 0) {
        files.push_back(seeds + "/" + name);
      }
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(IoData, SeedsGive635Records) {
  const std::string dir = data_dir();
  if (dir.empty()) GTEST_SKIP() << "PAPERSIM_DATA_DIR is not set or missing: no seeds";
  const std::vector<std::string> files = seed_files(dir);
  if (files.size() != 5) GTEST_SKIP() << "expected 5 seed files in " << dir << "/seeds";
  Corpus c = read_corpus(files, ReaderOptions{});
  EXPECT_EQ(c.stats.files, 5);
  EXPECT_EQ(c.stats.records, 635);
  EXPECT_EQ(c.stats.skipped_total(), 0);
  ASSERT_EQ(c.docs.size(), 635u);

  // Records per page (sorted names: 000..004): four listings and the poster page.
  std::map<std::string, int> per_file;
  for (const auto& d : c.docs) per_file[d.source.substr(0, 3)]++;
  EXPECT_EQ(per_file["000"], 86);
  EXPECT_EQ(per_file["001"], 80);
  EXPECT_EQ(per_file["002"], 69);
  EXPECT_EQ(per_file["003"], 280);
  EXPECT_EQ(per_file["004"], 120);

  for (std::size_t i = 0; i < c.docs.size(); ++i) {
    const Document& d = c.docs[i];
    EXPECT_EQ(d.doc, static_cast<std::int64_t>(i));
    EXPECT_FALSE(d.title.empty()) << d.source;
    // Default text: the title, then the abstract when the page has one.
    EXPECT_EQ(d.text.compare(0, d.title.size(), d.title), 0) << d.source;
    // No page chrome leaks into a record.
    EXPECT_EQ(d.text.find("Get trending papers"), std::string::npos) << d.source;
    EXPECT_EQ(d.text.find("AK and the research community"), std::string::npos) << d.source;
    // ids fall back to "<file>:<record>", unique across files.
    EXPECT_EQ(d.id.substr(0, d.id.find(':')), d.source.substr(0, d.source.find(':')));
  }
  EXPECT_EQ(c.stats.duplicate_ids, 0);

  // Listing: the header ("new" ... "by AK and the research community") is
  // skipped; the first record's title is on line 11 in every listing.
  EXPECT_EQ(c.docs[0].title,
            "Overcoming the Pitfalls of Vision-Language Model Finetuning for OOD Generalization");
  EXPECT_EQ(c.docs[0].source.substr(c.docs[0].source.find(':')), ":11");
  EXPECT_EQ(
      c.docs[0].text.rfind("Existing vision-language models exhibit", c.docs[0].title.size() + 1),
      c.docs[0].title.size() + 1);
  // 002 has "byAK ..." and a date line before its first record.
  const Document& d002 = c.docs[86 + 80];
  EXPECT_EQ(d002.title,
            "Efficiently Teaching an Effective Dense Retriever with Balanced Topic Aware Sampling");
  EXPECT_EQ(d002.source.substr(d002.source.find(':')), ":11");

  // Poster: three header lines, then title / authors / abstract from line 4.
  const Document& poster = c.docs[86 + 80 + 69];
  EXPECT_EQ(poster.title, "Real3D-Portrait: One-shot Realistic 3D Talking Portrait Synthesis");
  EXPECT_EQ(poster.source.substr(poster.source.find(':')), ":4");
  EXPECT_EQ(poster.text.find("Zhenhui Ye"), std::string::npos);  // authors are not text
  EXPECT_NE(poster.text.find("One-shot 3D talking portrait generation"), std::string::npos);
  // A poster whose abstract is missing on the page keeps its title as text.
  bool found = false;
  for (const auto& d : c.docs) {
    if (d.title == "Pathologies of Predictive Diversity in Deep Ensembles") {
      found = true;
      EXPECT_EQ(d.text, d.title);
      EXPECT_EQ(d.source.substr(d.source.find(':')), ":64");
    }
  }
  EXPECT_TRUE(found);

  // The data README: 31 titles occur two or three times, 37 same-title pairs.
  std::map<std::string, int> titles;
  for (const auto& d : c.docs) titles[d.title]++;
  int repeated = 0, pairs = 0;
  for (const auto& kv : titles) {
    if (kv.second > 1) {
      ++repeated;
      pairs += kv.second * (kv.second - 1) / 2;
    }
  }
  EXPECT_EQ(repeated, 31);
  EXPECT_EQ(pairs, 37);
}

TEST(IoData, SeedLayoutsDetectedPerFile) {
  const std::string dir = data_dir();
  if (dir.empty()) GTEST_SKIP() << "PAPERSIM_DATA_DIR is not set or missing: no seeds";
  const std::vector<std::string> files = seed_files(dir);
  if (files.size() != 5) GTEST_SKIP() << "expected 5 seed files in " << dir << "/seeds";
  // Forcing the right layout gives what detection gave; the wrong one does not.
  ReaderOptions listing;
  listing.format = InputFormat::kListing;
  ReaderOptions poster;
  poster.format = InputFormat::kPoster;
  EXPECT_EQ(read_corpus({files[0]}, listing).docs.size(), 86u);
  EXPECT_EQ(read_corpus({files[3]}, poster).docs.size(), 280u);
  EXPECT_EQ(read_corpus({files[3]}, ReaderOptions{}).docs.size(), 280u);
  EXPECT_NE(read_corpus({files[3]}, listing).docs.size(), 280u);
}

TEST(IoData, ArxivDailyLoadsAsIs) {
  const std::string dir = data_dir();
  if (dir.empty()) GTEST_SKIP() << "PAPERSIM_DATA_DIR is not set or missing: no arxiv-daily";
  const std::string path = dir + "/arxiv-daily/arxiv-daily.jsonl.xz";
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) GTEST_SKIP() << "missing " << path;
  Corpus c = read_corpus({path}, ReaderOptions{});
  EXPECT_EQ(c.stats.records, 120405);
  EXPECT_EQ(c.stats.skipped_total(), 0);
  ASSERT_EQ(c.docs.size(), 120405u);
  std::set<std::string> ids;
  for (const auto& d : c.docs) ids.insert(d.id);
  EXPECT_EQ(ids.size(), 74728u);  // the data README's distinct ids
  EXPECT_EQ(c.stats.duplicate_ids, 120405 - 74728);

  const Document& first = c.docs.front();
  EXPECT_EQ(first.id, "2503.11731");
  EXPECT_EQ(first.source, "arxiv-daily.jsonl.xz:1");
  EXPECT_EQ(first.title.size(), 125u);
  EXPECT_EQ(first.title.rfind("Industrial-Grade Sensor Simulation via Gaussian Splatting", 0), 0u);
  // Text = title + "\n" + summary (1,469 bytes in the file).
  EXPECT_EQ(first.text.size(), 125u + 1 + 1469);
  EXPECT_EQ(first.text.compare(126, 30, "Sensor simulation is pivotal f"), 0);
  const Document& second = c.docs[1];
  EXPECT_EQ(second.id, "2503.11742");
  EXPECT_EQ(second.title, "Safe Vision-Language Models via Unsafe Weights Manipulation");
  const Document& last = c.docs.back();
  EXPECT_EQ(last.id, "2606.31876");
  EXPECT_EQ(last.doc, 120404);
  EXPECT_EQ(last.source, "arxiv-daily.jsonl.xz:120405");
  EXPECT_EQ(last.title, "Harnessing Textual Refusal Directions for Multimodal Safety");
  EXPECT_EQ(last.text.size(), 59u + 1 + 1472);
}

// Every document against Python's json module: id, title and text (title +
// "\n" + summary) of all rows, compared through one chained CRC-32.
TEST(IoData, ArxivDailyMatchesPythonJson) {
  const std::string dir = data_dir();
  if (dir.empty()) GTEST_SKIP() << "PAPERSIM_DATA_DIR is not set or missing: no arxiv-daily";
  const char* py = std::getenv("PAPERSIM_PYTHON");
  if (!py || !*py) GTEST_SKIP() << "PAPERSIM_PYTHON is not set: no reference";
  const std::string path = dir + "/arxiv-daily/arxiv-daily.jsonl.xz";
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) GTEST_SKIP() << "missing " << path;
  const std::string script =
      "import json, lzma, sys, zlib\n"
      "crc, n = 0, 0\n"
      "for line in lzma.open(sys.argv[1], 'rt', encoding='utf-8'):\n"
      "    r = json.loads(line)\n"
      "    text = '\\n'.join(p for p in (r['title'], r['summary']) if p.strip())\n"
      "    for part in (r['id'], r['title'], text):\n"
      "        crc = zlib.crc32(part.encode('utf-8') + b'\\0', crc)\n"
      "    n += 1\n"
      "print(n, crc)\n";
  const std::string script_path = ::testing::TempDir() + "/papersim_io_arxiv_ref.py";
  {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(script_path.c_str(), "w"), std::fclose);
    ASSERT_TRUE(f);
    std::fputs(script.c_str(), f.get());
  }
  const std::string cmd = std::string(py) + " '" + script_path + "' '" + path + "'";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  ASSERT_TRUE(pipe);
  long long ref_n = -1;
  unsigned long ref_crc = 0;
  ASSERT_EQ(std::fscanf(pipe.get(), "%lld %lu", &ref_n, &ref_crc), 2) << cmd;

  Corpus c = read_corpus({path}, ReaderOptions{});
  uLong crc = crc32(0L, Z_NULL, 0);
  for (const auto& d : c.docs) {
    for (const std::string* part : {&d.id, &d.title, &d.text}) {
      crc =
          crc32(crc, reinterpret_cast<const Bytef*>(part->data()), static_cast<uInt>(part->size()));
      crc = crc32(crc, reinterpret_cast<const Bytef*>("\0"), 1);
    }
  }
  EXPECT_EQ(static_cast<long long>(c.docs.size()), ref_n);
  EXPECT_EQ(static_cast<unsigned long>(crc), ref_crc);
}

}  // namespace
}  // namespace papersim
