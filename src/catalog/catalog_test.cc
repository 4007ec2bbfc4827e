#include "catalog/catalog.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace eddy::catalog {
namespace {

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy-catalog-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(CatalogTest, PutGetListRemoveRoundTrip) {
  auto c = Catalog::open(dir_ / "catalog.db");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE((*c)->put("topic", "b", R"({"partitions":2})", 10));
  ASSERT_TRUE((*c)->put("topic", "a", R"({"partitions":1})", 11));
  ASSERT_TRUE((*c)->put("subscription", "a", "{}", 12));

  auto got = (*c)->get("topic", "b");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->spec, R"({"partitions":2})");
  EXPECT_EQ(got->created_ms, 10);

  auto topics = (*c)->list("topic");
  ASSERT_TRUE(topics.ok());
  ASSERT_EQ(topics->size(), 2u);
  EXPECT_EQ((*topics)[0].name, "a");
  EXPECT_EQ((*topics)[1].name, "b");

  ASSERT_TRUE((*c)->remove("topic", "a"));
  EXPECT_EQ((*c)->get("topic", "a").error().code, Errc::not_found);
  EXPECT_EQ((*c)->remove("topic", "a").error().code, Errc::not_found);
  EXPECT_TRUE((*c)->get("subscription", "a").ok());
}

TEST_F(CatalogTest, ReplacingKeepsCreationTime) {
  auto c = Catalog::open(dir_ / "catalog.db");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->put("topic", "t", "{}", 100));
  ASSERT_TRUE((*c)->put("topic", "t", R"({"x":1})", 200));
  auto got = (*c)->get("topic", "t");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->created_ms, 100);
  EXPECT_EQ(got->updated_ms, 200);
  EXPECT_EQ(got->spec, R"({"x":1})");
}

TEST_F(CatalogTest, SurvivesReopenWithSchemaVersion) {
  {
    auto c = Catalog::open(dir_ / "catalog.db");
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->put("topic", "kept", "{}", 1));
    ASSERT_TRUE((*c)->put_state("subscription", "s", "cursor", "42"));
  }
  auto c = Catalog::open(dir_ / "catalog.db");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->schema_version(), 1);
  EXPECT_TRUE((*c)->get("topic", "kept").ok());
  auto st = (*c)->get_state("subscription", "s", "cursor");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(st->has_value());
  EXPECT_EQ(**st, "42");
}

TEST_F(CatalogTest, RemovingAResourceDropsItsState) {
  auto c = Catalog::open(dir_ / "catalog.db");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->put("subscription", "s", "{}", 1));
  ASSERT_TRUE((*c)->put_state("subscription", "s", "cursor", "7"));
  ASSERT_TRUE((*c)->remove("subscription", "s"));
  auto st = (*c)->get_state("subscription", "s", "cursor");
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(st->has_value());
}

TEST_F(CatalogTest, OpeningAnUnwritablePathIsAClearError) {
  auto c = Catalog::open(dir_ / "missing-dir" / "catalog.db");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, Errc::io_error);
  EXPECT_NE(c.error().message.find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace eddy::catalog
