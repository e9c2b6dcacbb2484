// Bounds-checked big-endian byte reader and writer for wire formats.
//
// ByteReader never reads past its span: a read beyond the end returns zeros and makes the
// reader "failed" (sticky), so a parser may read a whole fixed header and check ok() once,
// OpenBGPD-style. ByteWriter likewise records overflow instead of writing past a fixed
// buffer, or grows a std::vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace vmroam {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

class ByteReader {
 public:
  explicit ByteReader(ByteView data) : data_(data) {}

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] std::size_t offset() const { return pos_; }
  [[nodiscard]] std::size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  [[nodiscard]] bool at_end() const { return remaining() == 0; }
  [[nodiscard]] ByteView whole() const { return data_; }

  std::uint8_t u8() {
    if (!need(1)) return 0;
    return data_[pos_++];
  }
  std::uint16_t u16() {
    if (!need(2)) return 0;
    auto v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::uint32_t u32() {
    if (!need(4)) return 0;
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | data_[pos_ + static_cast<std::size_t>(i)];
    pos_ += 4;
    return v;
  }
  std::uint64_t u64() {
    std::uint64_t hi = u32();
    return (hi << 32) | u32();
  }
  // A view of the next n bytes (empty and failed if fewer remain).
  ByteView bytes(std::size_t n) {
    if (!need(n)) return {};
    ByteView v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
  }
  void skip(std::size_t n) { (void)bytes(n); }
  // Everything from the current position to the end.
  ByteView rest() { return bytes(remaining()); }
  // Peek without consuming; 0 and no failure when past the end.
  [[nodiscard]] std::uint8_t peek_u8(std::size_t ahead = 0) const {
    return ok_ && pos_ + ahead < data_.size() ? data_[pos_ + ahead] : 0;
  }

 private:
  bool need(std::size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  ByteView data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// Appends big-endian values. Backed either by a growable vector or by a fixed span
// (data path: no allocation); on a fixed span an overflow makes the writer failed.
class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : vec_(&out) {}
  explicit ByteWriter(std::span<std::uint8_t> fixed) : fixed_(fixed) {}

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] std::size_t size() const { return vec_ ? vec_->size() : pos_; }

  void u8(std::uint8_t v) { put(&v, 1); }
  void u16(std::uint16_t v) {
    std::uint8_t b[2] = {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    put(b, 2);
  }
  void u32(std::uint32_t v) {
    std::uint8_t b[4] = {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                         static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    put(b, 4);
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
  }
  void bytes(ByteView b) { put(b.data(), b.size()); }
  void zeros(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) u8(0);
  }
  // Overwrite a 16-bit value already written at `at` (lengths, checksums).
  void patch_u16(std::size_t at, std::uint16_t v) {
    std::uint8_t* p = at_ptr(at, 2);
    if (!p) return;
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
  }
  void patch_u8(std::size_t at, std::uint8_t v) {
    std::uint8_t* p = at_ptr(at, 1);
    if (p) *p = v;
  }
  // Bytes written so far (contiguous).
  [[nodiscard]] std::span<std::uint8_t> written() {
    return vec_ ? std::span<std::uint8_t>(*vec_) : fixed_.first(pos_);
  }

 private:
  void put(const std::uint8_t* p, std::size_t n) {
    if (!ok_) return;
    if (vec_) {
      vec_->insert(vec_->end(), p, p + n);
      return;
    }
    if (fixed_.size() - pos_ < n) {
      ok_ = false;
      return;
    }
    if (n) std::memcpy(fixed_.data() + pos_, p, n);
    pos_ += n;
  }
  std::uint8_t* at_ptr(std::size_t at, std::size_t n) {
    if (at + n > size()) {
      ok_ = false;
      return nullptr;
    }
    return vec_ ? vec_->data() + at : fixed_.data() + at;
  }
  Bytes* vec_ = nullptr;
  std::span<std::uint8_t> fixed_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace vmroam
