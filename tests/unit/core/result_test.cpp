// common/core/result: Result<T> and Result<void>, fail(), VMROAM_TRY/VMROAM_TRY_VOID: values
// and named errors travel unchanged through propagation, value_or, and error equality by code.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/core/result.hpp"

namespace vmroam {
namespace {

Result<int> half(int x) {
  if (x % 2) return fail("odd", std::to_string(x));
  return x / 2;
}
Result<int> quarter(int x) {
  VMROAM_TRY(int h, half(x));
  return half(h);
}
Result<void> even(int x) {
  if (x % 2) return fail("odd");
  return ok();
}
Result<int> checked_half(int x) {
  VMROAM_TRY_VOID(even(x));
  return x / 2;
}

TEST(Result, CarriesValueOrNamedError) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "odd");
  EXPECT_EQ(r.error().to_string(), "odd: 3");  // the inner call's context, propagated
}

TEST(Result, ErrorWithoutContextPrintsItsCodeOnly) {
  EXPECT_EQ(make_error("truncated").to_string(), "truncated");
  EXPECT_EQ(make_error("truncated", "3 bytes").to_string(), "truncated: 3 bytes");
}

TEST(Result, ErrorsCompareByCodeOnly) {
  EXPECT_EQ(make_error("odd", "3"), make_error("odd", "5"));
  EXPECT_FALSE(make_error("odd") == make_error("even"));
}

TEST(Result, VoidResultPropagates) {
  EXPECT_TRUE(even(2));
  EXPECT_TRUE(ok());
  ASSERT_FALSE(even(3));
  EXPECT_EQ(even(3).error().code, "odd");
  EXPECT_EQ(*checked_half(10), 5);
  auto r = checked_half(7);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "odd");
}

TEST(Result, ValueOrGivesTheAlternativeOnlyOnError) {
  EXPECT_EQ(half(8).value_or(-1), 4);
  EXPECT_EQ(half(7).value_or(-1), -1);
}

TEST(Result, MoveOnlyValuesAreMovedOut) {
  auto make = [](bool good) -> Result<std::unique_ptr<int>> {
    if (!good) return fail("no");
    return std::make_unique<int>(42);
  };
  auto r = make(true);
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, 42);
  EXPECT_FALSE(make(false));
}

TEST(Result, ArrowReachesTheValue) {
  Result<std::string> r = std::string("abc");
  EXPECT_EQ(r->size(), 3u);
}

// "Can't happen" is an abort, never undefined behaviour (docs/errors.md).
TEST(ResultDeathTest, ValueOfAnErrorAborts) { EXPECT_DEATH((void)half(3).value(), ""); }

TEST(ResultDeathTest, ErrorOfAValueAborts) {
  EXPECT_DEATH((void)half(4).error(), "");
  EXPECT_DEATH((void)even(2).error(), "");
}

}  // namespace
}  // namespace vmroam
