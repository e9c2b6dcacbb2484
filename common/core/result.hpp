// Result<T>: the one error vocabulary of vmroam (shaped like C++23 std::expected).
//
// An Error carries a short, stable, machine-readable code (a string literal such as
// "truncated" or "unknown_extension", counted by reason in metrics) and optional
// human context. Protocol code returns Result instead of throwing: a packet never throws.
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vmroam {

struct Error {
  // Stable reason name; must point at a string literal (static storage), so copying an
  // Error on the data path never allocates for the code.
  std::string_view code;
  // What was wrong, for people: field names, offsets, values. May be empty.
  std::string context;

  [[nodiscard]] std::string to_string() const {
    std::string s(code);
    if (!context.empty()) {
      s += ": ";
      s += context;
    }
    return s;
  }
  friend bool operator==(const Error& a, const Error& b) { return a.code == b.code; }
};

[[nodiscard]] inline Error make_error(std::string_view code, std::string context = {}) {
  return Error{code, std::move(context)};
}

// Tag type so that `return fail("x")` converts into any Result<T>.
struct Unexpected {
  Error error;
};
[[nodiscard]] inline Unexpected fail(std::string_view code, std::string context = {}) {
  return Unexpected{Error{code, std::move(context)}};
}
[[nodiscard]] inline Unexpected fail(Error e) { return Unexpected{std::move(e)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  Result(const T& v) : v_(v) {}                     // NOLINT(google-explicit-constructor)
  Result(T&& v) : v_(std::move(v)) {}               // NOLINT(google-explicit-constructor)
  Result(Unexpected u) : v_(std::move(u.error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    check();
    return std::get<0>(v_);
  }
  const T& value() const& {
    check();
    return std::get<0>(v_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // "Can't happen" is an abort, never undefined behaviour.
  [[nodiscard]] const Error& error() const {
    if (has_value()) std::abort();
    return std::get<1>(v_);
  }
  template <typename U>
  [[nodiscard]] T value_or(U&& alt) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(alt));
  }

 private:
  void check() const {
    if (!has_value()) std::abort();
  }
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : err_(std::move(u.error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  [[nodiscard]] bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  [[nodiscard]] const Error& error() const {
    if (ok_) std::abort();
    return err_;
  }

 private:
  Error err_{};
  bool ok_ = true;
};

[[nodiscard]] inline Result<void> ok() { return {}; }

}  // namespace vmroam

// Propagate an error: VMROAM_TRY(auto x, parse(...)); or VMROAM_TRY_VOID(check(...));
// `decl` is a declaration and `tmp` a name, so they cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define VMROAM_CONCAT_INNER(a, b) a##b
#define VMROAM_CONCAT(a, b) VMROAM_CONCAT_INNER(a, b)
#define VMROAM_TRY_IMPL(tmp, decl, expr)        \
  auto tmp = (expr);                            \
  if (!tmp) return ::vmroam::fail(tmp.error()); \
  decl = std::move(tmp).value()
#define VMROAM_TRY(decl, expr) VMROAM_TRY_IMPL(VMROAM_CONCAT(vmroam_try_, __LINE__), decl, expr)
#define VMROAM_TRY_VOID(expr)                                               \
  do {                                                                      \
    auto vmroam_try_void_ = (expr);                                         \
    if (!vmroam_try_void_) return ::vmroam::fail(vmroam_try_void_.error()); \
  } while (0)
// NOLINTEND(bugprone-macro-parentheses)
