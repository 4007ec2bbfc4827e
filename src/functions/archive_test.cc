#include "functions/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>
#include <random>

namespace eddy::functions {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string path;
  std::string data;
  mode_t type = AE_IFREG;
  mode_t perm = 0644;
  std::string link;  // symlink or hardlink target
  bool hardlink = false;
};

// Writes a tar.gz (or zip) in memory.
std::string make_archive(const std::vector<Entry>& entries, bool zip = false) {
  std::string out;
  struct archive* a = archive_write_new();
  if (zip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
  }
  archive_write_open(
      a, &out, [](struct archive*, void*) { return ARCHIVE_OK; },
      [](struct archive*, void* ud, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(ud)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      [](struct archive*, void*) { return ARCHIVE_OK; });
  for (const auto& e : entries) {
    struct archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.path.c_str());
    archive_entry_set_filetype(ae, e.type);
    archive_entry_set_perm(ae, e.perm);
    archive_entry_set_size(ae, static_cast<la_int64_t>(e.data.size()));
    if (e.type == AE_IFLNK) archive_entry_set_symlink(ae, e.link.c_str());
    if (e.hardlink) archive_entry_set_hardlink(ae, e.link.c_str());
    archive_write_header(a, ae);
    if (!e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("eddy-archive-" + std::to_string(std::random_device{}()));
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(ArchiveTest, UnpacksTarGzAndZipWithExecutableBits) {
  for (bool zip : {false, true}) {
    auto target = root_ / (zip ? "z" : "t");
    auto data = make_archive({{"index.js", "exports.handler=1"},
                              {"lib/", "", AE_IFDIR, 0755},
                              {"lib/util.js", "x"},
                              {"bootstrap", "#!/bin/sh\n", AE_IFREG, 0700}},
                             zip);
    auto r = unpack_archive(data, target);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(fs::exists(target / "index.js"));
    EXPECT_TRUE(fs::exists(target / "lib/util.js"));
    struct stat st;
    ASSERT_EQ(::stat((target / "bootstrap").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0755u) << "executable, readable by the function user";
    ASSERT_EQ(::stat((target / "index.js").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
  }
}

TEST_F(ArchiveTest, RefusesPathsThatEscapeAndCleansUp) {
  const std::vector<std::vector<Entry>> bad = {
      {{"../evil", "x"}},
      {{"/etc/evil", "x"}},
      {{"a/../../evil", "x"}},
      {{"link", "", AE_IFLNK, 0777, "/etc/passwd"}},
      {{"d/link", "", AE_IFLNK, 0777, "../../outside"}},
      {{"ok", "x"}, {"hl", "", AE_IFREG, 0644, "../../etc/passwd", true}},
      {{"dir", "", AE_IFLNK, 0777, "."}, {"fifo", "", AE_IFIFO, 0644}},
  };
  int i = 0;
  for (const auto& entries : bad) {
    auto target = root_ / ("bad" + std::to_string(i++));
    auto r = unpack_archive(make_archive(entries), target);
    ASSERT_FALSE(r) << entries.back().path;
    EXPECT_EQ(r.error().code, Errc::invalid_argument) << r.error().message;
    EXPECT_FALSE(fs::exists(target)) << "a refused archive leaves nothing behind";
  }
  EXPECT_FALSE(fs::exists(root_.parent_path() / "evil"));
}

TEST_F(ArchiveTest, AllowsSymlinksThatStayInside) {
  auto r = unpack_archive(make_archive({{"a/real.js", "x"}, {"a/alias.js", "", AE_IFLNK, 0777, "real.js"}}),
                          root_ / "s");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(fs::is_symlink(root_ / "s/a/alias.js"));
}

TEST_F(ArchiveTest, StopsAtTheSizeAndEntryLimits) {
  std::string big(1 << 20, 'a');
  auto r = unpack_archive(make_archive({{"big", big}}), root_ / "big", UnpackLimits{1000, 10});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::too_large);
  std::vector<Entry> many;
  for (int i = 0; i < 20; ++i) many.push_back({"f" + std::to_string(i), "x"});
  auto m = unpack_archive(make_archive(many), root_ / "many", UnpackLimits{1 << 20, 10});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::too_large);
}

TEST_F(ArchiveTest, GarbageIsAClearError) {
  auto r = unpack_archive("this is not an archive at all", root_ / "g");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
}

TEST_F(ArchiveTest, PackedDirectoryUnpacksToTheSameFiles) {
  fs::create_directories(root_ / "src/sub");
  std::ofstream(root_ / "src/index.js") << "exports.handler = async () => 1;";
  std::ofstream(root_ / "src/sub/x.txt") << "hello";
  auto packed = pack_directory(root_ / "src");
  ASSERT_TRUE(packed) << packed.error().message;
  auto r = unpack_archive(*packed, root_ / "dst");
  ASSERT_TRUE(r) << r.error().message;
  std::ifstream f(root_ / "dst/sub/x.txt");
  std::string s((std::istreambuf_iterator<char>(f)), {});
  EXPECT_EQ(s, "hello");
}

}  // namespace
}  // namespace eddy::functions
